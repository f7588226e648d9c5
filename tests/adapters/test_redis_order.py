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


async def test_local_waiters_keep_their_place_behind_a_long_turn(
    real_redis: Redis, key_prefix: str
) -> None:
    # Replica A holds update 1 past the waiter ttl with 2 and 3 waiting behind it; replica B
    # waits with 4. Only A's lowest waiter polls Redis, so it must keep 3's place alive too.
    keys = RedisKeys(key_prefix)
    a = RedisChatOrder(real_redis, keys, ttl=1.0, poll=0.02)
    b = RedisChatOrder(real_redis, keys, ttl=1.0, poll=0.02)
    ran: list[int] = []

    async def turn(update_id: int, seconds: float) -> None:
        ran.append(update_id)
        await asyncio.sleep(seconds)

    tasks = [asyncio.create_task(a.run(CHAT, 1, lambda: turn(1, 1.8), admitted=False))]
    await asyncio.sleep(0.05)
    for update_id in (2, 3):
        tasks.append(
            asyncio.create_task(
                a.run(CHAT, update_id, lambda u=update_id: turn(u, 0.05), admitted=False)
            )
        )
        await asyncio.sleep(0.05)
    tasks.append(asyncio.create_task(b.run(CHAT, 4, lambda: turn(4, 0.05), admitted=False)))
    await asyncio.sleep(1.4)  # past the waiters' ttl, while 1 still holds the lock
    _, queue, _ = keys.chat_order(CHAT)
    assert await real_redis.zrange(queue, 0, -1) == [b"2", b"3", b"4"]
    await asyncio.gather(*tasks)
    assert ran == [1, 2, 3, 4]
