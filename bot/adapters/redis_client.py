"""REDIS_URL to a client: one server, Redis Cluster or Redis Sentinel.

- ``redis://``, ``rediss://``, ``unix://``: one server (redis-py's own URL forms).
- ``redis+cluster://host:port`` (``rediss+cluster://`` for TLS): Redis Cluster, any node to start.
- ``redis+sentinel://host:port[,host:port...]/service_name[/db]``: the master that the
  Sentinels name for ``service_name``, found again after a failover.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.sentinel import Sentinel

TIMEOUT = 5.0

RedisClient = Redis | RedisCluster


def connect(url: str) -> RedisClient:
    scheme, _, rest = url.partition("://")
    if scheme in ("redis+cluster", "rediss+cluster"):
        return RedisCluster.from_url(
            f"{scheme.split('+')[0]}://{rest}",
            socket_timeout=TIMEOUT,
            socket_connect_timeout=TIMEOUT,
        )
    if scheme == "redis+sentinel":
        return _sentinel_master(url)
    return Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)


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
