"""Upstream failures end to end: each gives a clear message and the bot keeps answering."""

from __future__ import annotations

import asyncio

import pytest

from bot.adapters.redis_usage import RedisUsageStore
from bot.core.errors import StorageUnavailable
from bot.telegram.texts import t
from tests.doubles.fake_gonka import Reply
from tests.e2e.conftest import USER, Env, EnvFactory


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply.error(401), "cannot sign in"),
        (Reply.error(402), "balance"),
        (Reply.error(404), "not available"),
        (Reply.error(400, {"detail": "bad message shape"}), "rejected the request"),
        (Reply(text="late", hang_before_first_byte=3.0), "took too long"),
    ],
    ids=["401", "402", "404", "400", "timeout"],
)
async def test_error_before_first_token_is_explained(
    make_env: EnvFactory, reply: Reply, expected: str
) -> None:
    async with make_env(upstream_read_timeout=0.5, upstream_max_retries=0) as env:
        # With one model listed a 404 has no fallback (tests/e2e/test_models.py has the fallback).
        env.gonka.models = env.gonka.models[:1]
        env.gonka.enqueue(reply)
        await env.telegram.send_text(USER, "hello?")
        await env.wait_replies(1)
        assert expected in env.visible_texts()[-1]
        env.gonka.enqueue(Reply(text="Back to normal."))
        await env.telegram.send_text(USER, "again")
        await env.wait_replies(2)
        assert env.visible_texts()[-1] == "Back to normal."


@pytest.mark.parametrize("status", [429, 500, 502, 503])
async def test_transient_errors_retried_then_explained(env: Env, status: int) -> None:
    # The bot is configured with one SDK retry: the first failure is retried and succeeds.
    env.gonka.enqueue(Reply.error(status), Reply(text="Recovered."))
    await env.telegram.send_text(USER, "hi")
    await env.wait_replies(1)
    assert env.visible_texts() == ["Recovered."]
    # Two failures in a row exhaust the retry: the user is told, in their language.
    env.gonka.enqueue(Reply.error(status), Reply.error(status))
    await env.telegram.send_text(USER, "hi", language_code="ru")
    await env.wait_replies(2)
    assert "Попробуйте" in env.visible_texts()[-1]


@pytest.mark.parametrize(
    "reply",
    [
        Reply(text="First part of the answer. Second part never comes.", cut_after=25),
        Reply(text="First part of the answer. Second part never comes.", reset_after=25),
        Reply(text="First part of the answer. Second part never comes.", error_event_after=25),
        Reply(text="First part of the answer. Second part never comes.", plain_error_after=25),
    ],
    ids=["no-done", "reset", "error-event", "plain-text"],
)
async def test_cut_mid_stream_keeps_text_and_says_so(env: Env, reply: Reply) -> None:
    env.gonka.enqueue(reply)
    await env.telegram.send_text(USER, "tell me")
    await env.wait_replies(1)
    text = env.visible_texts()[-1]
    assert text.startswith("First part of the answer.")
    assert "interrupted" in text
    env.gonka.enqueue(Reply(text="Next answer."))
    await env.telegram.send_text(USER, "and?")
    await env.wait_replies(2)
    # The partial answer is in history, so the model sees what the user saw.
    history = env.upstream_messages()
    assert history[2]["role"] == "assistant"
    assert history[2]["content"].startswith("First part of the answer.")


async def test_message_too_large_for_budget(make_env: EnvFactory) -> None:
    async with make_env(context_token_budget=600, max_tokens=100) as env:
        await env.telegram.send_text(USER, "word " * 2000)
        await env.wait_replies(1)
        assert "too long" in env.visible_texts()[-1]
        assert env.gonka.completion_calls == 0


async def test_non_text_messages_get_a_polite_answer(make_env: EnvFactory) -> None:
    async with make_env(flood_window=1.0) as env:
        await env.telegram.send_sticker(USER)
        await env.wait_replies(1)
        # The same answer again within the window is not repeated (issues 14, 16).
        await env.telegram.send_sticker(USER)
        await asyncio.sleep(1.2)  # handled, unanswered; then the window is over
        await env.telegram.send_voice(USER, language_code="ru")
        await env.wait_replies(2)
        texts = env.visible_texts()
        assert texts == [t("input_sticker", "en"), t("input_voice", "ru")]
        assert env.gonka.completion_calls == 0


STORAGE_TEXT = t("error_storage", "en")


async def test_storage_failure_after_the_answer_keeps_the_answer(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise StorageUnavailable("connection refused")

    monkeypatch.setattr(RedisUsageStore, "add", broken)  # counting usage fails
    env.gonka.enqueue(Reply(text="The whole answer."))
    await env.telegram.send_text(USER, "hi")
    await env.wait_replies(2)
    assert env.visible_texts() == ["The whole answer.", STORAGE_TEXT]


async def test_blocked_by_user_still_counts_usage_and_history(env: Env) -> None:
    env.telegram.fail_next(
        "sendMessage", status=403, description="Forbidden: bot was blocked by the user"
    )
    env.gonka.enqueue(Reply(text="Lost answer."), Reply(text="ok"))
    await env.telegram.send_text(USER, "first")
    await env.telegram.wait_for(lambda: env.telegram.calls_of("sendMessage"))
    await env.telegram.wait_for(lambda: env.app.running.active == 0)
    await env.telegram.send_text(USER, "second")
    await env.wait_replies(1)
    assert env.visible_texts() == ["ok"]
    assert [m["content"] for m in env.upstream_messages()[1:]] == [
        "first",
        "Lost answer.",
        "second",
    ]
