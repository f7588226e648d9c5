from __future__ import annotations

from datetime import UTC, datetime

from redis.asyncio import Redis

from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_settings import RedisAccessStore, RedisChatSettings
from bot.adapters.redis_usage import RedisUsageStore
from bot.core.models import AccessRecord, ChatKey, ChatMessage, ChatSettings, Usage
from bot.core.quota import Attempt


async def test_models_and_prompts_survive_a_new_store(redis: Redis, key_prefix: str) -> None:
    first = RedisChatSettings(redis, RedisKeys(key_prefix))
    await first.set_default("a/model")
    await first.set_chat(-5, "b/model")
    await first.set_system_prompt(-5, ChatMessage("system", "Be brief.", 9))
    restarted = RedisChatSettings(redis, RedisKeys(key_prefix))
    assert await restarted.chosen(-5) == ("a/model", "b/model")
    assert await restarted.chosen(7) == ("a/model", None)
    assert await restarted.system_prompt(-5) == ChatMessage("system", "Be brief.", 9)
    await restarted.set_chat(-5, None)
    await restarted.set_system_prompt(-5, None)
    assert await restarted.chosen(-5) == ("a/model", None)
    assert await restarted.system_prompt(-5) is None


async def test_a_turns_settings_are_read_together(redis: Redis, key_prefix: str) -> None:
    """The models, the chat's own prompt and the conversation's mode (per topic) in one read,
    the same as each read alone."""
    store = RedisChatSettings(redis, RedisKeys(key_prefix))
    topic = ChatKey(-5, 9)
    assert await store.settings(topic) == ChatSettings()
    await store.set_default("a/model")
    await store.set_chat(-5, "b/model")
    await store.set_system_prompt(-5, ChatMessage("system", "Be brief.", 9))
    await store.set_mode(topic, "coder")
    prompt = ChatMessage("system", "Be brief.", 9)
    assert await store.settings(topic) == ChatSettings("a/model", "b/model", prompt, "coder")
    assert await store.mode(topic) == "coder"
    assert await store.settings(ChatKey(-5)) == ChatSettings("a/model", "b/model", prompt)
    await store.set_mode(topic, None)
    assert await store.settings(topic) == ChatSettings("a/model", "b/model", prompt)


async def test_access_decisions_and_quotas(redis: Redis, key_prefix: str) -> None:
    store = RedisAccessStore(redis, RedisKeys(key_prefix))
    await store.set_user(1, "block")
    await store.set_chat(-2, "allow")
    await store.set_quota(1, 100, None)
    assert await store.record(1, -2) == AccessRecord("block", "allow", 100, None)
    await store.set_user(1, None)
    await store.set_quota(1, None, 0)
    assert await store.record(1, -3) == AccessRecord(None, None, None, 0)


async def test_stats_per_period_model_user_and_chat(redis: Redis, key_prefix: str) -> None:
    store = RedisUsageStore(redis, RedisKeys(key_prefix))
    day1 = datetime(2026, 11, 24, 12, tzinfo=UTC)
    day2 = datetime(2026, 11, 25, 12, tzinfo=UTC)
    await store.add(1, "org/m:1", Usage(10, 5), day1, chat_id=1)
    await store.add(2, "org/m:1", Usage(20, 5), day2, group_id=-9, chat_id=-9)
    await store.add(1, "x", Usage(1, 1), day2, chat_id=1)
    today, month, all_time = await store.stats(day2, top=5)
    assert (today.usage, today.requests, today.active_users) == (Usage(21, 6), 2, 2)
    assert today.models == {"org/m:1": Usage(20, 5), "x": Usage(1, 1)}
    assert month.top_users == [(2, 25), (1, 17)]
    assert month.top_chats == [(-9, 25), (1, 17)]
    assert all_time.usage == Usage(31, 11) and all_time.requests == 3


async def test_flood_window_is_shared_by_replicas(redis: Redis, key_prefix: str) -> None:
    keys = RedisKeys(key_prefix)
    replicas = [RedisAccessStore(redis, keys), RedisAccessStore(redis, keys)]
    at = datetime(2026, 12, 1, tzinfo=UTC)

    async def hit(replica: int, user: int, now: float) -> tuple[int, float]:
        attempt = Attempt(user, 1, at, now, window=10.0, flood_limit=100, limits=None)
        result = await replicas[replica].attempt(attempt)
        return result.count, result.oldest

    counts = [await hit(i % 2, 9, 1000.0 + i) for i in range(3)]
    assert counts == [(1, 1000.0), (2, 1000.0), (3, 1000.0)]
    # Attempts older than the window no longer count.
    assert await hit(0, 9, 1011.5) == (2, 1002.0)
    assert await hit(1, 10, 1011.5) == (1, 1011.5)


async def test_group_context_setting_survives_a_new_store(redis: Redis, key_prefix: str) -> None:
    first = RedisChatSettings(redis, RedisKeys(key_prefix))
    assert not await first.keeps_context(-5)
    await first.set_keeps_context(-5, True)
    restarted = RedisChatSettings(redis, RedisKeys(key_prefix))
    assert await restarted.keeps_context(-5) and not await restarted.keeps_context(-6)
    await restarted.set_keeps_context(-5, False)
    assert not await first.keeps_context(-5)


async def test_tool_switches_live_in_the_chats_settings(redis: Redis, key_prefix: str) -> None:
    from bot.core.tools import ALL_TOOLS

    store = RedisChatSettings(redis, RedisKeys(key_prefix))
    assert await store.switched_off(-5) == frozenset()
    await store.set_switched_off(-5, frozenset({"get_weather", "fetch_url"}))
    await store.set_system_prompt(-5, ChatMessage("system", "Be brief.", 9))
    restarted = RedisChatSettings(redis, RedisKeys(key_prefix))
    assert await restarted.switched_off(-5) == frozenset({"get_weather", "fetch_url"})
    await restarted.set_switched_off(-5, frozenset({ALL_TOOLS}))
    assert await restarted.switched_off(-5) == frozenset({ALL_TOOLS})
    await restarted.set_switched_off(-5, frozenset())
    assert await restarted.switched_off(-5) == frozenset()
    assert await restarted.system_prompt(-5) == ChatMessage("system", "Be brief.", 9)
