"""Inline mode under pressure: webhook updates, a 429 on an inline edit, a chat's answer lock,
a flood of queries while another user's inline answer streams."""

from __future__ import annotations

import asyncio

from bot.telegram.texts import t
from tests.doubles.fake_gonka import FakeGonka, Reply
from tests.doubles.fake_telegram import FakeTelegramServer
from tests.e2e.conftest import FAST, EnvFactory
from tests.e2e.test_inline import ASKER, GROUP, _answered, _choose, _query
from tests.e2e.webhook_apps import free_port, webhook_app


async def test_the_webhook_asks_for_inline_updates_and_answers_a_choice() -> None:
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        port = free_port()
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        async with webhook_app(telegram, gonka, url, port, **FAST):
            await telegram.wait_for(lambda: telegram.calls_of("setWebhook"))
            allowed = set(telegram.calls_of("setWebhook")[0].params["allowed_updates"])
            assert {"inline_query", "chosen_inline_result", "callback_query"} <= allowed
            gonka.enqueue(Reply(text="Answered over the webhook."))
            query_id, result = await _query(telegram, "webhook question")
            inline_id = await telegram.choose_inline_result(query_id, result["id"], GROUP)
            assert inline_id is not None
            await telegram.wait_for(
                lambda: telegram.inline_text(inline_id) == "Answered over the webhook."
            )
            assert len(gonka.requests) == 1


async def test_a_429_on_an_inline_edit_is_waited_out_and_the_final_text_lands(
    make_env: EnvFactory,
) -> None:
    async with make_env(**FAST) as env:
        env.gonka.enqueue(Reply(text="The final words all arrive.", token_delay=0.02))
        env.telegram.fail_next("editMessageText", times=2, status=429, retry_after=1)
        _, inline_id = await _choose(env, "a question")
        await _answered(env, inline_id, "The final words all arrive.")
        assert env.telegram.inline_text(inline_id) == "The final words all arrive."
        assert [c.status for c in env.telegram.calls_of("editMessageText")].count(429) == 2


async def test_an_inline_query_does_not_wait_behind_the_askers_private_answer(
    make_env: EnvFactory,
) -> None:
    async with make_env(**FAST) as env:
        env.gonka.enqueue(Reply(text="A slow private answer.", ttft=5.0))
        await env.telegram.send_text(ASKER, "slow question", user_id=ASKER)
        await env.telegram.wait_for(lambda: env.gonka.in_flight == 1)
        _, result = await _query(env.telegram, "quick inline question")  # within wait_for's 10 s
        assert "quick inline question" in result["title"]
        assert env.gonka.in_flight == 1  # the private answer still runs


async def test_a_flood_of_queries_leaves_another_users_answer_whole(make_env: EnvFactory) -> None:
    async with make_env(**FAST) as env:
        env.gonka.enqueue(Reply(text="Another user's answer, complete.", token_delay=0.02))
        _, inline_id = await _choose(env, "a question")
        hostile = [env.telegram.send_inline_query(4999, "x" * 256 + str(i)) for i in range(200)]
        ids = await asyncio.gather(*hostile)
        await _answered(env, inline_id, "Another user's answer, complete.")
        await env.telegram.wait_for(lambda: all(i in env.telegram.inline_answers for i in ids))
        assert len(env.gonka.requests) == 1  # no query made a request
        titles = {env.telegram.inline_answers[i]["results"][0]["title"] for i in ids}
        assert titles == {"The question is too long"}


async def test_an_inline_answer_running_at_the_end_of_the_grace_keeps_its_text(
    make_env: EnvFactory,
) -> None:
    async with make_env(**FAST, shutdown_grace=0.5) as env:
        env.gonka.enqueue(Reply(text="word " * 400, chunk_chars=5, token_delay=0.02))
        _, inline_id = await _choose(env, "talk")
        await env.telegram.wait_for(lambda: len(env.telegram.inline_text(inline_id) or "") > 30)
        await env.app.drain()  # what SIGTERM runs: the grace is over long before the answer
        shown = env.telegram.inline_text(inline_id) or ""
        assert shown.startswith("word") and shown.endswith(t("shutdown_note", "en"))
