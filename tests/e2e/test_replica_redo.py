"""Redo across replicas: an edit, a /retry or a variant press reaching one replica stops the
answer another replica streams (what streams and the stop request go through the shared Redis),
then the redo runs in the chat's order."""

from __future__ import annotations

import contextlib
from typing import Any

from redis.asyncio import Redis

from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_store import RedisHistoryStore
from bot.app import App
from bot.core.models import ChatKey
from tests.conftest import REAL_REDIS_URL
from tests.doubles.fake_gonka import FakeGonka, Reply
from tests.doubles.fake_telegram import FakeTelegramServer, StoredMessage
from tests.e2e.test_replicas import shared_redis
from tests.e2e.webhook_apps import two_replicas

__all__ = ["shared_redis"]  # the fixture: a real Redis and a key prefix of its own

USER = 5007
# 20 s at full length: an answer stopped early ends long before.
SLOW = Reply(text="word " * 1000, chunk_chars=5, token_delay=0.02)


def _replicas(
    prefix: str,
) -> contextlib.AbstractAsyncContextManager[tuple[FakeTelegramServer, FakeGonka, App, App]]:
    """Two replicas on one Redis behind a round robin: updates reach them in turn."""
    return two_replicas(redis_url=REAL_REDIS_URL, redis_key_prefix=prefix, use_drafts=False)


def _button(message: StoredMessage, label: str) -> str:
    rows: list[list[dict[str, Any]]] = (message.reply_markup or {}).get("inline_keyboard", [])
    return next(str(b["callback_data"]) for row in rows for b in row if b["text"] == label)


def _labels(message: StoredMessage) -> list[list[str]]:
    rows: list[list[dict[str, Any]]] = (message.reply_markup or {}).get("inline_keyboard", [])
    return [[button["text"] for button in row] for row in rows]


async def _settled(
    telegram: FakeTelegramServer, gonka: FakeGonka, apps: list[App], text: str
) -> None:
    await telegram.wait_for(
        lambda: (
            [m.text for m in telegram.bot_messages(USER)] == [text]
            and gonka.in_flight == 0
            and all(app.running.active == 0 for app in apps)
        ),
        10,
    )


async def _streaming(telegram: FakeTelegramServer, app: App) -> StoredMessage:
    """The answer `app` streams, once it shows some words."""
    return await telegram.wait_for(
        lambda: (
            app.running.active == 1
            and next(
                (m for m in telegram.bot_messages(USER) if "word word" in (m.text or "")), None
            )
        )
    )


async def _history(redis: Redis, prefix: str) -> list[str]:
    return [
        m.content for m in await RedisHistoryStore(redis, RedisKeys(prefix)).load(ChatKey(USER))
    ]


async def test_an_edit_on_the_other_replica_stops_the_answer_then_redoes(
    shared_redis: tuple[Redis, str],
) -> None:
    redis, prefix = shared_redis
    async with _replicas(prefix) as (telegram, gonka, first, second):
        gonka.enqueue(SLOW)
        asked = await telegram.send_text(USER, "Write about cats", user_id=USER)  # the first
        answer = await _streaming(telegram, first)
        gonka.enqueue(Reply(text="Dogs are loyal."))
        await telegram.edit_text(USER, asked, "Write about dogs")  # to the second replica
        await telegram.wait_for(lambda: gonka.request_log[0].client_disconnected, 5)
        await _settled(telegram, gonka, [first, second], "Dogs are loyal.")
        assert first.metrics.monitor.totals("updates") == {"message": 1}
        assert second.metrics.monitor.totals("updates") == {"edited_message": 1}
    assert telegram.bot_messages(USER)[0].message_id == answer.message_id  # in place
    assert [m["content"] for m in gonka.requests[1]["messages"]][1:] == ["Write about dogs"]
    assert await _history(redis, prefix) == ["Write about dogs", "Dogs are loyal."]


async def test_a_retry_on_the_other_replica_stops_the_regeneration_then_redoes(
    shared_redis: tuple[Redis, str],
) -> None:
    redis, prefix = shared_redis
    async with _replicas(prefix) as (telegram, gonka, first, second):
        gonka.enqueue(Reply(text="First answer."))
        await telegram.send_text(USER, "Tell a story", user_id=USER)  # to the first replica
        await _settled(telegram, gonka, [first], "First answer.")
        answer = telegram.bot_messages(USER)[0]
        gonka.enqueue(SLOW)
        await telegram.press_button(USER, answer.message_id, _button(answer, "🔄"), user_id=USER)
        await _streaming(telegram, second)  # the regeneration, on the second replica
        gonka.enqueue(Reply(text="The second try."))
        await telegram.send_text(USER, "/retry", user_id=USER)  # to the first replica
        await telegram.wait_for(lambda: gonka.request_log[1].client_disconnected, 5)
        await _settled(telegram, gonka, [first, second], "The second try.")
        assert first.metrics.monitor.totals("updates") == {"message": 2}
        assert second.metrics.monitor.totals("updates") == {"callback_query": 1}
    shown = telegram.bot_messages(USER)[0]
    assert shown.message_id == answer.message_id  # in place
    assert _labels(shown) == [["🔄"], ["‹", "3/3", "›"]]  # the stopped one is a variant too
    assert gonka.requests[2]["messages"] == gonka.requests[0]["messages"]
    assert await _history(redis, prefix) == ["Tell a story", "The second try."]


async def test_a_variant_press_on_the_other_replica_stops_the_regeneration(
    shared_redis: tuple[Redis, str],
) -> None:
    redis, prefix = shared_redis
    async with _replicas(prefix) as (telegram, gonka, first, second):
        gonka.enqueue(Reply(text="One."), Reply(text="Two."))
        await telegram.send_text(USER, "Count", user_id=USER)  # to the first replica
        await _settled(telegram, gonka, [first], "One.")
        answer = telegram.bot_messages(USER)[0]
        await telegram.press_button(USER, answer.message_id, _button(answer, "🔄"), user_id=USER)
        await _settled(telegram, gonka, [second], "Two.")  # on the second replica
        shown = telegram.bot_messages(USER)[0]
        back = _button(shown, "‹")  # to the first variant
        gonka.enqueue(SLOW)
        await telegram.press_button(USER, answer.message_id, _button(shown, "🔄"), user_id=USER)
        await _streaming(telegram, first)  # the regeneration, on the first replica
        await telegram.press_button(  # to the second replica
            USER, answer.message_id, back, user_id=USER, check_button=False
        )
        await telegram.wait_for(lambda: gonka.request_log[2].client_disconnected, 5)
        await _settled(telegram, gonka, [first, second], "One.")
        assert gonka.completion_calls == 3
    assert telegram.bot_messages(USER)[0].message_id == answer.message_id
    assert await _history(redis, prefix) == ["Count", "One."]


async def test_two_presses_on_two_replicas_are_one_redo(shared_redis: tuple[Redis, str]) -> None:
    redis, prefix = shared_redis
    async with _replicas(prefix) as (telegram, gonka, first, second):
        gonka.enqueue(Reply(text="First answer."))
        await telegram.send_text(USER, "Tell a story", user_id=USER)  # to the first replica
        await _settled(telegram, gonka, [first], "First answer.")
        answer = telegram.bot_messages(USER)[0]
        data = _button(answer, "🔄")
        gonka.enqueue(Reply(text="word " * 100 + "end.", chunk_chars=5, token_delay=0.02))
        await telegram.press_button(USER, answer.message_id, data, user_id=USER)  # the second
        await _streaming(telegram, second)
        await telegram.press_button(  # the first replica: the same redo, told at once
            USER, answer.message_id, data, user_id=USER, check_button=False
        )
        await telegram.wait_for(lambda: len(telegram.calls_of("answerCallbackQuery")) == 2)
        assert second.running.active == 1 and first.running.active == 0
        told = [c.params.get("text") for c in telegram.calls_of("answerCallbackQuery")]
        assert told[0] == told[1] == "🔄 Answering again…"
        await _settled(telegram, gonka, [first, second], "word " * 100 + "end.")
        assert gonka.completion_calls == 2 and not gonka.request_log[1].client_disconnected
    assert await _history(redis, prefix) == ["Tell a story", "word " * 100 + "end."]
