"""Buttons are checked before anything changes, and only the answer's author is told "Stopping…"."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.conftest import REAL_REDIS_URL
from tests.doubles.fake_gonka import FakeGonka, Reply
from tests.doubles.fake_telegram import FakeTelegramServer
from tests.e2e.conftest import FAST, Env, EnvFactory
from tests.e2e.webhook_apps import free_port, webhook_app

GROUP = -100700
ALICE, BOB = 701, 702


async def _ask(telegram: FakeTelegramServer, text: str, user_id: int = ALICE) -> int:
    return await telegram.send_text(
        GROUP, text, user_id=user_id, first_name="Alice", chat_type="supergroup", chat_title="T"
    )


def _answers(telegram: FakeTelegramServer) -> list[str | None]:
    return [c.params.get("text") for c in telegram.calls_of("answerCallbackQuery")]


async def test_a_forged_continue_press_leaves_the_real_button(make_env: EnvFactory) -> None:
    async with make_env(**FAST, max_tokens=30) as env:
        env.gonka.enqueue(Reply(text="A long story goes on and on and on. " * 4 + "cut"))
        await _ask(env.telegram, "@fake_llm_bot tell a story")
        await env.wait_replies(1, GROUP)
        cut = env.visible(GROUP)[-1]
        real = cut.reply_markup["inline_keyboard"][0][0]["callback_data"]  # type: ignore[index]
        await env.telegram.press_button(
            GROUP, cut.message_id, "cont:forged", user_id=BOB, check_button=False
        )
        await env.telegram.wait_for(lambda: len(_answers(env.telegram)) == 1)
        await asyncio.sleep(0.3)
        assert env.telegram.chat(GROUP).messages[cut.message_id].reply_markup is not None
        env.gonka.enqueue(Reply(text="And it ends."))
        await env.telegram.press_button(GROUP, cut.message_id, real, user_id=BOB)
        await _wait_text(env, "And it ends.")
        assert env.telegram.chat(GROUP).messages[cut.message_id].reply_markup is None


async def _wait_text(env: Env, text: str) -> None:
    await env.telegram.wait_for(lambda: text in env.visible_texts(GROUP), 10)
    await env.telegram.wait_for(lambda: env.app.running.active == 0, 10)


@pytest.fixture
async def real_redis_prefix() -> AsyncIterator[str]:
    client = Redis.from_url(REAL_REDIS_URL, socket_connect_timeout=0.5)
    try:
        await client.ping()
    except Exception:
        await client.aclose()
        pytest.skip(f"no Redis server at {REAL_REDIS_URL}")
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    yield prefix
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=500)]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_with_redis_only_the_author_is_told_stopping(real_redis_prefix: str) -> None:
    port = free_port()
    async with (
        FakeTelegramServer() as telegram,
        FakeGonka() as gonka,
        webhook_app(
            telegram, gonka, f"http://127.0.0.1:{port}/hook", port,
            redis_url=REAL_REDIS_URL, redis_key_prefix=real_redis_prefix,
        ) as app,
    ):  # fmt: skip
        await telegram.wait_for(lambda: telegram.calls_of("setWebhook"))
        gonka.enqueue(Reply(text="line " * 400, chunk_chars=5, token_delay=0.02))
        await _ask(telegram, "@fake_llm_bot talk")
        message = await telegram.wait_for(
            lambda: next((m for m in telegram.bot_messages(GROUP) if m.reply_markup), None)
        )
        data = message.reply_markup["inline_keyboard"][0][0]["callback_data"]
        await telegram.press_button(GROUP, message.message_id, data, user_id=BOB)
        await telegram.press_button(
            GROUP, message.message_id, "stop:forged", user_id=ALICE, check_button=False
        )
        await telegram.wait_for(lambda: len(_answers(telegram)) == 2)
        assert _answers(telegram) == [None, None]
        await asyncio.sleep(0.8)  # a replica's poll would have seen a stored request by now
        assert app.running.active == 1
        await telegram.press_button(GROUP, message.message_id, data, user_id=ALICE)
        await telegram.wait_for(lambda: len(_answers(telegram)) == 3)
        assert _answers(telegram)[-1] == "Stopping…"
        await telegram.wait_for(lambda: app.running.active == 0, 5)
    assert (telegram.bot_messages(GROUP)[-1].text or "").endswith("Stopped.")
