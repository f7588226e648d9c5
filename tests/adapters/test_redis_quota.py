"""Quota holds: reserved atomically, clamped to what is left, settled with the real usage."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from redis.asyncio import Redis

from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_settings import RedisAccessStore
from bot.adapters.redis_usage import RedisUsageStore
from bot.core.models import Usage
from bot.core.quota import Attempt, QuotaLimits

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LIMITS = QuotaLimits(daily=100, monthly=0)


async def test_concurrent_holds_never_exceed_what_is_left(redis: Redis, key_prefix: str) -> None:
    store = RedisUsageStore(redis, RedisKeys(key_prefix))
    await store.add(7, "m", Usage(10, 0), AT)  # 90 left
    holds = await asyncio.gather(*(store.reserve(7, LIMITS, 40, AT) for _ in range(10)))
    granted = sorted((h.amount for h in holds if not h.exhausted), reverse=True)
    assert granted == [40, 40, 10]
    assert sum(1 for h in holds if h.exhausted == "day") == 7


async def test_settling_counts_the_real_usage_and_frees_the_rest(
    redis: Redis, key_prefix: str
) -> None:
    store = RedisUsageStore(redis, RedisKeys(key_prefix))
    hold = await store.reserve(7, LIMITS, 100, AT)
    assert hold.amount == 100
    assert (await store.reserve(7, LIMITS, 1, AT)).exhausted == "day"
    await store.add(7, "m", Usage(20, 10), AT, hold=hold)  # the turn used 30 of its 100
    assert (await store.reserve(7, LIMITS, 100, AT)).amount == 70


async def test_a_released_hold_gives_everything_back(redis: Redis, key_prefix: str) -> None:
    store = RedisUsageStore(redis, RedisKeys(key_prefix))
    hold = await store.reserve(7, QuotaLimits(0, 50), 80, AT)
    assert hold.amount == 50
    await store.release(hold)
    assert (await store.reserve(7, QuotaLimits(0, 50), 80, AT)).amount == 50


async def test_the_gate_sees_holds_and_tells_a_refusal_once_per_window(
    redis: Redis, key_prefix: str
) -> None:
    keys = RedisKeys(key_prefix)
    await RedisUsageStore(redis, keys).reserve(7, LIMITS, 100, AT)
    access = RedisAccessStore(redis, keys)
    now = time.time()

    def attempt(at: float, chat: int = 1) -> Attempt:
        return Attempt(7, chat, AT, at, window=10, flood_limit=0, limits=LIMITS)

    first = await access.attempt(attempt(now))
    assert (first.refusal, first.tell, first.use.day) == ("quota_day", True, 100)
    assert not (await access.attempt(attempt(now + 1))).tell
    assert (await access.attempt(attempt(now + 1, chat=2))).tell  # another chat is told
    assert (await access.attempt(attempt(now + 11))).tell  # the next window
