"""Nothing a chat leaves behind lives for ever: every write refreshes an idle expiry."""

from __future__ import annotations

from datetime import UTC, datetime

from redis.asyncio import Redis

from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_settings import RedisChatSettings
from bot.adapters.redis_store import RedisHistoryStore
from bot.adapters.redis_usage import RedisUsageStore
from bot.core.models import ChatKey, ChatMessage, Usage

IDLE = 180 * 86400
AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _near(ttl: int, expected: int) -> bool:
    return expected - 5 <= ttl <= expected


async def test_history_settings_and_all_time_counters_expire_when_idle(
    redis: Redis, key_prefix: str
) -> None:
    keys = RedisKeys(key_prefix, idle_ttl=IDLE)
    chat = ChatKey(-100555, thread_id=3)
    settings = RedisChatSettings(redis, keys)
    await settings.set_chat(chat.chat_id, "model-x")
    assert _near(await redis.ttl(keys.chat_settings(chat.chat_id)), IDLE)
    await redis.expire(keys.chat_settings(chat.chat_id), 100)  # set long ago

    history = RedisHistoryStore(redis, keys)
    await history.append(chat, [ChatMessage("user", "q", 3)], keep=10)
    assert _near(await redis.ttl(keys.history(chat)), IDLE)
    # The chat is in use: its settings live on with it.
    assert _near(await redis.ttl(keys.chat_settings(chat.chat_id)), IDLE)
    await redis.expire(keys.history(chat), 100)
    await history.replace(chat, -1, ChatMessage("user", "q2", 3))
    assert _near(await redis.ttl(keys.history(chat)), IDLE)

    await RedisUsageStore(redis, keys).add(7, "m", Usage(1, 1), AT, group_id=chat.chat_id,
                                           chat_id=chat.chat_id)  # fmt: skip
    for key in (
        keys.usage(("user", 7), "all"),
        keys.usage(("chat", chat.chat_id), "all"),
        keys.stats("usage", "all"),
        keys.stats("models", "all"),
        keys.stats("users", "all"),
        keys.stats("chats", "all"),
    ):
        assert _near(await redis.ttl(key), IDLE), key


async def test_a_chats_mode_lives_as_long_as_its_history(redis: Redis, key_prefix: str) -> None:
    """Issue 21: modes live with the history's TTL: a chat in use keeps the mode it chose."""
    keys = RedisKeys(key_prefix, idle_ttl=IDLE)
    chat = ChatKey(-100556, thread_id=4)
    await RedisChatSettings(redis, keys).set_mode(chat, "coder")
    assert _near(await redis.ttl(keys.mode(chat)), IDLE)
    await redis.expire(keys.mode(chat), 100)  # chosen long ago
    await RedisHistoryStore(redis, keys).append(chat, [ChatMessage("user", "q", 3)], keep=10)
    assert _near(await redis.ttl(keys.mode(chat)), IDLE)


async def test_the_bots_own_settings_do_not_expire(redis: Redis, key_prefix: str) -> None:
    keys = RedisKeys(key_prefix, idle_ttl=IDLE)
    await RedisChatSettings(redis, keys).set_default("model-x")
    assert await redis.ttl(keys.bot_settings()) == -1


async def test_shared_stats_keys_get_their_expire_once_a_day_and_again_when_lost(
    redis: Redis, key_prefix: str
) -> None:
    keys = RedisKeys(key_prefix, idle_ttl=IDLE)
    store = RedisUsageStore(redis, keys)
    shared = [keys.stats(kind, period) for kind in ("usage", "models", "users")
              for period in ("d:2026-12-01", "m:2026-12", "all")]  # fmt: skip
    await store.add(7, "m", Usage(1, 1), AT)
    for key in shared:
        await redis.expire(key, 100)
    await store.add(8, "m", Usage(1, 1), AT.replace(hour=13))
    for key in shared:  # the same day: not sent again with every reply
        assert await redis.ttl(key) <= 100, key
    assert _near(await redis.ttl(keys.usage(("user", 8), "all")), IDLE)  # a user's own: sent

    await store.add(7, "m", Usage(1, 1), datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    assert _near(await redis.ttl(keys.stats("usage", "all")), IDLE)  # the next day: refreshed
    assert _near(await redis.ttl(keys.stats("users", "m:2026-12")), 400 * 86400)

    for key in shared:  # Redis lost them (restarted without persistence)
        await redis.delete(key)
    later = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    await store.add(7, "m", Usage(1, 1), later)
    await store.add(7, "m", Usage(1, 1), later)
    assert _near(await redis.ttl(keys.stats("models", "all")), IDLE)
    assert _near(await redis.ttl(keys.stats("usage", "m:2026-12")), 400 * 86400)
    assert await redis.hget(keys.stats("usage", "all"), "requests") == b"2"
