"""Answer variants and the history's drop on Redis (or the embedded store): a round trip, the
history's idle TTL, and a broken record read as none."""

from __future__ import annotations

from redis.asyncio import Redis

from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_store import RedisHistoryStore
from bot.adapters.redis_variants import RedisVariantStore
from bot.core.models import ChatKey, ChatMessage, ToolCall
from bot.core.variants import AnswerVariants, Variant

CHAT = ChatKey(7, 3)


async def test_variants_round_trip_with_the_history_ttl(redis: Redis, key_prefix: str) -> None:
    keys = RedisKeys(key_prefix, idle_ttl=3600)
    store = RedisVariantStore(redis, keys)
    assert await store.load(CHAT) is None
    call = ToolCall("c1", "weather", "{}")
    first = Variant(
        (
            ChatMessage("assistant", "", 5, tool_calls=(call,)),
            ChatMessage("tool", "3 °C", 4, tool_call_id="c1"),
            ChatMessage("assistant", "It is 3 °C.", 6),
        ),
        "model-a",
    )
    record = AnswerVariants("abc", 42, (10, 11), (first,)).added(
        Variant((ChatMessage("assistant", "Cold.", 3),), "model-b"), (12,)
    )
    await store.save(CHAT, record)
    assert await store.load(CHAT) == record
    assert 0 < await redis.ttl(keys.variants(CHAT)) <= 3600
    await redis.set(keys.variants(CHAT), '{"a": "abc"}')
    assert await store.load(CHAT) is None  # a broken record: its buttons are stale


async def test_history_drop_removes_the_newest_entries(redis: Redis, key_prefix: str) -> None:
    history = RedisHistoryStore(redis, RedisKeys(key_prefix))
    entries = [ChatMessage("user", str(i), 1) for i in range(4)]
    await history.append(CHAT, entries, keep=10)
    await history.drop(CHAT, 2)
    assert await history.load(CHAT) == entries[:2]
    await history.drop(CHAT, 5)
    assert await history.load(CHAT) == []
