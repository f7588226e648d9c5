"""REDIS_URL forms become the right client (no server needed to build one)."""

from __future__ import annotations

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.sentinel import SentinelConnectionPool

from bot.adapters.redis_client import connect


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
