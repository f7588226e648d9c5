"""Nothing a chat leaves behind lives for ever: every write refreshes an idle expiry."""

from __future__ import annotations

from datetime import UTC, datetime

from redis.asyncio import Redis

from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_settings import RedisChatSettings
from bot.adapters.redis_store import RedisHistoryStore, RedisUsageStore
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


async def test_the_bots_own_settings_do_not_expire(redis: Redis, key_prefix: str) -> None:
    keys = RedisKeys(key_prefix, idle_ttl=IDLE)
    await RedisChatSettings(redis, keys).set_default("model-x")
    assert await redis.ttl(keys.bot_settings()) == -1
