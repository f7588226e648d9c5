"""The per-chat order on the real Redis: two replicas, a long turn outliving the lock's ttl."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_order import RedisChatOrder
from tests.conftest import _real_redis

CHAT = 8008


@pytest.fixture
async def real_redis(key_prefix: str) -> AsyncIterator[Redis]:
    client = await _real_redis()
    if client is None:
        pytest.skip("no Redis server reachable: the chat order runs Lua scripts (not on fakeredis)")
    yield client
    keys = [key async for key in client.scan_iter(match=f"{key_prefix}:*", count=500)]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_a_long_turn_keeps_its_lock_past_the_ttl(real_redis: Redis, key_prefix: str) -> None:
    keys = RedisKeys(key_prefix)
    first = RedisChatOrder(real_redis, keys, ttl=1.0, poll=0.02)  # two replicas
    second = RedisChatOrder(real_redis, keys, ttl=1.0, poll=0.02)
    spans: dict[int, tuple[float, float]] = {}

    async def turn(update_id: int, seconds: float) -> None:
        began = time.monotonic()
        await asyncio.sleep(seconds)
        spans[update_id] = (began, time.monotonic())

    long_turn = asyncio.create_task(first.run(CHAT, 1, lambda: turn(1, 1.6), admitted=False))
    await asyncio.sleep(0.05)
    await second.run(CHAT, 2, lambda: turn(2, 0.01), admitted=False)
    await long_turn
    assert spans[2][0] >= spans[1][1]  # the refreshed lock held the second replica back
    lock, queue, alive = keys.chat_order(CHAT)
    assert not await real_redis.exists(lock, queue, alive)


async def test_redelivered_update_runs_once_over_replicas(
    real_redis: Redis, key_prefix: str
) -> None:
    keys = RedisKeys(key_prefix)
    replicas = [RedisChatOrder(real_redis, keys, poll=0.02) for _ in range(2)]
    ran: list[int] = []

    async def turn() -> int:
        ran.append(1)
        return 1

    results = await asyncio.gather(*(r.run(CHAT, 10, turn, admitted=False) for r in replicas))
    assert results.count(None) == 1 and results.count(1) == 1
    assert ran == [1]
    assert await real_redis.ttl(keys.seen(10, CHAT)) > 3600
