from __future__ import annotations

from datetime import UTC, datetime

from redis.asyncio import Redis

from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_store import RedisHistoryStore
from bot.adapters.redis_usage import RedisUsageStore
from bot.core.models import ChatKey, ChatMessage, Usage


async def test_history_append_trim_replace_clear(redis: Redis, key_prefix: str) -> None:
    store = RedisHistoryStore(redis, RedisKeys(key_prefix))
    chat = ChatKey(42)
    other = ChatKey(42, thread_id=7)
    turns = [ChatMessage("user", f"q{i}", 5) for i in range(3)]
    await store.append(chat, turns, keep=10)
    await store.append(chat, [ChatMessage("assistant", "a", 9)], keep=3)
    loaded = await store.load(chat)
    assert [m.content for m in loaded] == ["q1", "q2", "a"]
    assert loaded[-1].tokens == 9
    await store.replace(chat, -1, ChatMessage("assistant", "a+more", 12))
    assert (await store.load(chat))[-1] == ChatMessage("assistant", "a+more", 12)
    assert await store.load(other) == []
    assert await store.size(chat) == 3 and await store.size(other) == 0
    await store.clear(chat)
    assert await store.load(chat) == []
    assert await store.size(chat) == 0


async def test_history_keys_share_one_hash_tag_per_chat(key_prefix: str) -> None:
    keys = RedisKeys(key_prefix)
    assert "{chat:5}" in keys.history(ChatKey(5))
    assert "{chat:5}" in keys.history(ChatKey(5, 3))
    assert keys.history(ChatKey(5)) != keys.history(ChatKey(5, 3))


async def test_usage_periods_roll_over(redis: Redis, key_prefix: str) -> None:
    store = RedisUsageStore(redis, RedisKeys(key_prefix))
    day1 = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    day2 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    await store.add(1, "m", Usage(10, 5), day1)
    await store.add(1, "m", Usage(3, 2), day1)
    await store.add(1, "m", Usage(100, 50), day2)
    first = await store.totals(1, day1)
    assert first.today == Usage(13, 7)
    assert first.month == Usage(13, 7)
    second = await store.totals(1, day2)
    assert second.today == Usage(100, 50)
    assert second.month == Usage(100, 50)
    assert second.all_time == Usage(113, 57)
    assert (await store.totals(2, day2)).all_time == Usage()


async def test_group_usage_counted_for_user_and_group(redis: Redis, key_prefix: str) -> None:
    store = RedisUsageStore(redis, RedisKeys(key_prefix))
    at = datetime(2026, 11, 25, tzinfo=UTC)
    await store.add(7, "m", Usage(10, 1), at, group_id=-100)
    await store.add(8, "m", Usage(20, 2), at, group_id=-100)
    await store.add(7, "m", Usage(1, 1), at)
    assert (await store.totals(7, at)).today == Usage(11, 2)
    assert (await store.group_totals(-100, at)).today == Usage(30, 3)
