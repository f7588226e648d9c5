"""REDIS_URL forms become the right client (no server needed to build one)."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.sentinel import SentinelConnectionPool

from bot.adapters.redis_client import connect
from tests.conftest import REAL_REDIS_URL


async def test_single_server_forms() -> None:
    for url in ("redis://127.0.0.1:6379/2", "rediss://cache.example:6380/0", "unix:///tmp/r.sock"):
        client = connect(url)
        assert type(client) is Redis
        await client.aclose()
    tls = connect("rediss://cache.example:6380/0")
    assert tls.connection_pool.connection_kwargs["port"] == 6380
    await tls.aclose()


async def test_sentinel_form_names_the_service_and_db() -> None:
    client = connect("redis+sentinel://s1:26379,s2:26380/mymaster/3")
    assert isinstance(client, Redis)
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool)
    assert pool.service_name == "mymaster"
    assert pool.connection_kwargs["db"] == 3
    hosts = [(s.connection_pool.connection_kwargs["host"], s.connection_pool.connection_kwargs["port"])
             for s in pool.sentinel_manager.sentinels]  # fmt: skip
    assert hosts == [("s1", 26379), ("s2", 26380)]
    await client.aclose()


def test_cluster_form() -> None:
    client = connect("redis+cluster://127.0.0.1:7000")
    assert isinstance(client, RedisCluster)


async def test_a_burst_larger_than_the_pool_waits_for_a_connection() -> None:
    """150 users at once on a pool of 100: every command waits its turn, none fails with
    "Too many connections" (redis-py's default non-blocking pool)."""
    from tests.conftest import _real_redis

    probe = await _real_redis()
    if probe is None:
        pytest.skip("no Redis server: the pool is checked against a real one")
    await probe.aclose()
    client = connect(REAL_REDIS_URL)
    try:
        results = await asyncio.gather(*(client.ping() for _ in range(150)))
        assert all(results)
    finally:
        await client.aclose()


async def test_the_pool_size_and_wait_are_settings() -> None:
    client = connect("redis://127.0.0.1:6379/0", max_connections=7, pool_timeout=0.5)
    assert isinstance(client, Redis)
    pool = client.connection_pool
    assert isinstance(pool, BlockingConnectionPool)
    assert (pool.max_connections, pool.timeout) == (7, 0.5)
    await client.aclose()
