"""Answer variants and the history's drop on Redis (or the embedded store): a round trip, the
history's idle TTL, and a broken record read as none."""

from __future__ import annotations

from redis.asyncio import Redis

from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_store import RedisHistoryStore
from bot.adapters.redis_variants import RedisVariantStore
from bot.core.models import ChatKey, ChatMessage, ToolCall
from bot.core.redo import Asked
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


async def test_answered_questions_in_one_write_with_the_history_ttl(
    redis: Redis, key_prefix: str
) -> None:
    """A question answered again replaces itself and the ones after it; the newest are kept;
    the last answer and its question are written together, both with the history's TTL."""
    keys = RedisKeys(key_prefix, idle_ttl=3600)
    store = RedisVariantStore(redis, keys)
    assert await store.questions(CHAT) == []
    for message_id in (10, 11, 12, 13):
        await store.add_question(CHAT, Asked.of(message_id, f"q{message_id}", 7), keep=3)
    assert [a.message_id for a in await store.questions(CHAT)] == [11, 12, 13]
    await store.add_question(CHAT, Asked.of(12, "q12 again", 7), keep=3)
    assert await store.questions(CHAT) == [Asked.of(11, "q11", 7), Asked.of(12, "q12 again", 7)]
    await store.add_question(CHAT, Asked.of(11, "first", -100123456789012), keep=3)
    assert await store.questions(CHAT) == [Asked.of(11, "first", -100123456789012)]
    record = AnswerVariants("abc", 42, (10,), (Variant((ChatMessage("assistant", "A", 2),), "m"),))
    await store.save_answered(CHAT, record, Asked.of(111, "q", 42), keep=3)
    assert await store.load(CHAT) == record
    assert [a.message_id for a in await store.questions(CHAT)] == [11, 111]
    await store.add_question(CHAT, Asked.of(1, "q1", 42), keep=3)  # not 11's or 111's
    assert [a.message_id for a in await store.questions(CHAT)] == [11, 111, 1]
    assert 0 < await redis.ttl(keys.variants(CHAT)) <= 3600
    assert 0 < await redis.ttl(keys.questions(CHAT)) <= 3600
    edited = [Asked.of(11, "first", 42), Asked(111, "d", 42, "new words")]
    await store.save_questions(CHAT, edited)
    assert await store.questions(CHAT) == edited
    assert 0 < await redis.ttl(keys.questions(CHAT)) <= 3600
    await redis.rpush(keys.questions(CHAT), "[broken")
    assert await store.questions(CHAT) == []  # another version's record: no edit is redone


async def test_history_drop_removes_the_newest_entries(redis: Redis, key_prefix: str) -> None:
    """An answer replaced: the newest entries go and the new ones come in one transaction."""
    history = RedisHistoryStore(redis, RedisKeys(key_prefix))
    entries = [ChatMessage("user", str(i), 1) for i in range(4)]
    await history.append(CHAT, entries, keep=10)
    new = ChatMessage("assistant", "new", 1)
    await history.append(CHAT, [new], keep=10, drop=2)
    assert await history.load(CHAT) == [*entries[:2], new]
    await history.append(CHAT, [new], keep=2, drop=1)
    assert await history.load(CHAT) == [entries[1], new]
    await history.append(CHAT, [], keep=10, drop=5)
    assert await history.load(CHAT) == []
