"""REDIS_URL to a client: one server, Redis Cluster or Redis Sentinel.

- ``redis://``, ``rediss://``, ``unix://``: one server (redis-py's own URL forms).
- ``redis+cluster://host:port`` (``rediss+cluster://`` for TLS): Redis Cluster, any node to start.
- ``redis+sentinel://host:port[,host:port...]/service_name[/db]``: the master that the
  Sentinels name for ``service_name``, found again after a failover.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.core.errors import StorageUnavailable

log = logging.getLogger(__name__)

TIMEOUT = 5.0

RedisClient = Redis | RedisCluster
T = TypeVar("T")


async def guard(call: Callable[[], Awaitable[T]]) -> T:
    """Run one Redis call; a connection failure becomes StorageUnavailable."""
    try:
        return await call()
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        raise StorageUnavailable(str(exc)) from exc


# How long a turn's writes (its history and usage) wait for Redis to come back.
WRITE_RETRY_BOUND = 15.0


async def guard_write(call: Callable[[], Awaitable[T]], bound: float = WRITE_RETRY_BOUND) -> T:
    """A write that must not be lost to a Redis restart: while the connection is refused, try
    again with backoff (0.25 s doubling to 2 s) for up to `bound` seconds, then give up as
    StorageUnavailable. A timeout is not retried: the write may have been applied."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound
    delay = 0.25
    while True:
        try:
            return await call()
        except RedisTimeoutError as exc:
            raise StorageUnavailable(str(exc)) from exc
        except (RedisConnectionError, OSError) as exc:
            if loop.time() + delay > deadline:
                raise StorageUnavailable(str(exc)) from exc
            log.warning(
                "Redis write failed, retrying in %.2f s error=%s", delay, type(exc).__name__
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


def connect(url: str, *, max_connections: int = 100, pool_timeout: float = 5.0) -> RedisClient:
    """A client for REDIS_URL. A single server gets a blocking pool: a burst of more callers than
    `max_connections` waits up to `pool_timeout` seconds for a connection instead of failing
    with "Too many connections" (redis-py's default pool)."""
    scheme, _, rest = url.partition("://")
    if scheme in ("redis+cluster", "rediss+cluster"):
        return RedisCluster.from_url(
            f"{scheme.split('+')[0]}://{rest}",
            socket_timeout=TIMEOUT,
            socket_connect_timeout=TIMEOUT,
        )
    if scheme == "redis+sentinel":
        return _sentinel_master(url)
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=pool_timeout,
        socket_timeout=TIMEOUT,
        socket_connect_timeout=TIMEOUT,
    )
    return Redis.from_pool(pool)


def _sentinel_master(url: str) -> Redis:
    parts = urlsplit(url)
    hosts: list[tuple[str, int]] = []
    for item in parts.netloc.rpartition("@")[2].split(","):
        host, _, port = item.rpartition(":")
        hosts.append((host or item, int(port) if host else 26379))
    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise ValueError("redis+sentinel:// needs the service name: /service_name[/db]")
    service, db = path[0], int(path[1]) if len(path) > 1 else 0
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        hosts, socket_timeout=TIMEOUT, sentinel_kwargs={"socket_timeout": TIMEOUT}
    )
    master: Redis = sentinel.master_for(
        service,
        db=db,
        username=parts.username,
        password=parts.password,
        socket_timeout=TIMEOUT,
        socket_connect_timeout=TIMEOUT,
    )
    return master


def where(url: str) -> str:
    """REDIS_URL without its credentials, fit for a log line."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


async def wait_until_reachable(
    client: RedisClient, url: str, *, first: float = 1.0, most: float = 30.0
) -> None:
    """Return once Redis answers; until then log one line per try and wait longer each time
    (the bot does not start answering users with an outage notice)."""
    delay = first
    while True:
        try:
            await client.ping()
            return
        except (RedisError, OSError) as exc:
            log.error(
                "Redis at %s is unreachable (%s): retrying in %.0f s; check REDIS_URL or start "
                "Redis (without REDIS_URL the bot keeps its data under DATA_DIR)",
                where(url),
                type(exc).__name__,
                delay,
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, most)
