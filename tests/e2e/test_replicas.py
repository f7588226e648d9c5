"""Two replicas behind one webhook URL, sharing the real Redis: one chat stays in order."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_store import RedisHistoryStore
from bot.core.models import ChatKey
from tests.conftest import REAL_REDIS_URL
from tests.doubles.fake_gonka import FakeGonka, Reply
from tests.doubles.fake_telegram import FakeTelegramServer
from tests.e2e.webhook_apps import free_port, two_replicas, webhook_app

USER = 5005


@pytest.fixture
async def shared_redis() -> AsyncIterator[tuple[Redis, str]]:
    client = Redis.from_url(REAL_REDIS_URL, socket_connect_timeout=0.5)
    try:
        await client.ping()
    except Exception:
        await client.aclose()
        pytest.skip(f"no Redis server at {REAL_REDIS_URL}: replicas need a shared Redis")
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    yield client, prefix
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=500)]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_two_replicas_answer_one_chat_in_order_once(
    shared_redis: tuple[Redis, str],
) -> None:
    redis, prefix = shared_redis
    shared = {
        "redis_url": REAL_REDIS_URL,
        "redis_key_prefix": prefix,
        "chat_lock_ttl": 3.0,
    }
    async with two_replicas(**shared) as (telegram, gonka, first, second):
        gonka.enqueue(*[Reply(text=None, chunk_chars=2, token_delay=0.01) for _ in range(4)])
        questions = [f"question {n}" for n in range(1, 5)]
        for question in questions:  # arrive while the first answers are still streaming
            await telegram.send_text(USER, question, user_id=USER)
        await telegram.wait_for(lambda: len(telegram.bot_messages(USER)) == 4, 20)
        # Telegram did not see an answer in time and sends two updates again, to the other replica.
        for update_id, _ in telegram.webhook_posts[:2]:
            assert await telegram.redeliver(update_id) == 200
        await asyncio.sleep(0.3)
        handled = (
            first.metrics.monitor.totals("updates"),
            second.metrics.monitor.totals("updates"),
        )

    assert [m.text for m in telegram.bot_messages(USER)] == [f"Echo: {q}" for q in questions]
    assert len(gonka.requests) == 4 and gonka.max_in_flight == 1
    for number, request in enumerate(gonka.requests):
        asked = [m["content"] for m in request["messages"] if m["role"] == "user"]
        assert asked == questions[: number + 1]  # each answer saw all earlier turns
    history = await RedisHistoryStore(redis, RedisKeys(prefix)).load(ChatKey(USER))
    expected = [text for q in questions for text in (q, f"Echo: {q}")]
    assert [m.content for m in history] == expected
    assert all(counts.get("message", 0) >= 1 for counts in handled)  # both replicas worked
    assert sum(counts.get("message", 0) for counts in handled) == 4


async def test_a_crashed_replica_does_not_block_the_chat(shared_redis: tuple[Redis, str]) -> None:
    redis, prefix = shared_redis
    keys = RedisKeys(prefix)
    lock, queue, alive = keys.chat_order(USER)
    # A replica died holding the lock and another one died waiting in the queue.
    await redis.set(lock, "1", px=1500)
    await redis.zadd(queue, {"2": 2})
    await redis.zadd(alive, {"2": 1})  # its deadline has passed
    async with contextlib.AsyncExitStack() as stack:
        telegram = await stack.enter_async_context(FakeTelegramServer())
        gonka = await stack.enter_async_context(FakeGonka())
        port = free_port()
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        await stack.enter_async_context(
            webhook_app(telegram, gonka, url, port, redis_url=REAL_REDIS_URL,
                        redis_key_prefix=prefix, chat_lock_ttl=1.5)
        )  # fmt: skip
        await telegram.wait_for(lambda: telegram.calls_of("setWebhook"))
        await telegram.send_text(USER, "anyone there?", user_id=USER)
        await telegram.wait_for(lambda: telegram.bot_messages(USER), 10)
    assert [m.text for m in telegram.bot_messages(USER)] == ["Echo: anyone there?"]
    assert not await redis.exists(lock)


async def test_stop_pressed_on_the_other_replica_stops_the_answer(
    shared_redis: tuple[Redis, str],
) -> None:
    _, prefix = shared_redis
    shared = {"redis_url": REAL_REDIS_URL, "redis_key_prefix": prefix, "use_drafts": False}
    async with two_replicas(**shared) as (telegram, gonka, first, second):
        gonka.enqueue(Reply(text="line " * 400, chunk_chars=5, token_delay=0.02))
        await telegram.send_text(USER, "talk", user_id=USER)  # to the first replica
        message = await telegram.wait_for(
            lambda: next((m for m in telegram.bot_messages(USER) if m.reply_markup), None)
        )
        data = message.reply_markup["inline_keyboard"][0][0]["callback_data"]
        await telegram.press_button(USER, message.message_id, data, user_id=USER)  # to the second
        await telegram.wait_for(lambda: gonka.request_log[0].client_disconnected, 5)
        await telegram.wait_for(lambda: first.running.active == 0, 5)
        assert first.metrics.monitor.totals("updates") == {"message": 1}
        assert second.metrics.monitor.totals("updates") == {"callback_query": 1}
    final = telegram.bot_messages(USER)[-1]
    assert (final.text or "").endswith("Stopped.")
    rows = (final.reply_markup or {}).get("inline_keyboard", [])
    assert [[b["text"] for b in row] for row in rows] == [["🔄"]]  # Stop gone, 🔄 stays


async def test_native_draft_stop_reaching_the_other_replica_stops_the_answer(
    shared_redis: tuple[Redis, str],
) -> None:
    _, prefix = shared_redis
    shared = {"redis_url": REAL_REDIS_URL, "redis_key_prefix": prefix}
    async with two_replicas(**shared) as (telegram, gonka, first, second):
        gonka.enqueue(Reply(text="word " * 400, chunk_chars=5, token_delay=0.02))
        await telegram.send_text(USER, "talk", user_id=USER)  # to the first replica
        generation = await telegram.wait_for(lambda: next(iter(first.running.answers()), None))
        await telegram.wait_for(
            lambda: (d := telegram.draft(USER, generation.draft_id)) and len(d.text) > 20
        )
        await telegram.stop_generation(USER, generation.draft_id)  # to the second replica
        await telegram.wait_for(lambda: gonka.request_log[0].client_disconnected, 5)
        await telegram.wait_for(lambda: first.running.active == 0, 5)
        assert second.metrics.monitor.totals("updates") == {"stopped_message_generation": 1}
    final = telegram.bot_messages(USER)[-1]
    assert (final.text or "").startswith("word") and (final.text or "").endswith("Stopped.")


async def test_continue_pressed_on_the_other_replica_extends_the_cut_answer(
    shared_redis: tuple[Redis, str],
) -> None:
    redis, prefix = shared_redis
    shared = {"redis_url": REAL_REDIS_URL, "redis_key_prefix": prefix, "max_tokens": 30}
    first_half = "The first half of a long story goes here and goes on and on. " * 3
    async with two_replicas(**shared) as (telegram, gonka, first, second):
        gonka.enqueue(Reply(text=first_half + "cut", chunk_chars=6))
        await telegram.send_text(USER, "story", user_id=USER)  # to the first replica
        cut = await telegram.wait_for(
            lambda: next((m for m in telegram.bot_messages(USER) if m.reply_markup), None), 10
        )
        # The first replica has finished the turn (a condition, not a pause: a loaded machine).
        await telegram.wait_for(lambda: gonka.in_flight == 0 and first.running.active == 0)
        button = cut.reply_markup["inline_keyboard"][0][0]
        gonka.enqueue(Reply(text=" And the second half ends it.", chunk_chars=6))
        await telegram.press_button(USER, cut.message_id, button["callback_data"], user_id=USER)
        await telegram.wait_for(lambda: len(telegram.bot_messages(USER)) == 2, 10)
        await telegram.wait_for(lambda: second.running.active == 0 and gonka.in_flight == 0)
        await asyncio.sleep(0.1)
        assert second.metrics.monitor.totals("updates") == {"callback_query": 1}
    assert (telegram.bot_messages(USER)[-1].text or "").endswith("the second half ends it.")
    history = await RedisHistoryStore(redis, RedisKeys(prefix)).load(ChatKey(USER))
    assert len(history) == 2 and history[-1].content.endswith("And the second half ends it.")
