"""History, usage and the chat order on a real three-node Redis Cluster started by the test."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import RedisCluster

from bot.adapters.redis_client import connect
from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_order import RedisChatOrder
from bot.adapters.redis_store import RedisHistoryStore
from bot.adapters.redis_usage import RedisUsageStore
from bot.core.models import ChatKey, ChatMessage, Usage
from tests.e2e.redis_servers import need_redis_server, start_redis, stop_redis


def _cluster_ports(count: int) -> list[int]:
    """Free ports whose cluster bus port (+10000) is free as well."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port > 55000 or port in ports:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        ports.append(port)
    return ports


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[RedisCluster]:
    need_redis_server()
    cli = shutil.which("redis-cli")
    if cli is None:
        pytest.skip("redis-cli is not installed: it creates the cluster")
    ports = _cluster_ports(3)
    nodes = []
    try:
        for port in ports:
            directory = tmp_path / str(port)
            directory.mkdir()
            nodes.append(
                await start_redis(directory, port, "--cluster-enabled", "yes",
                                  "--cluster-node-timeout", "2000")
            )  # fmt: skip
        create = await asyncio.create_subprocess_exec(
            cli, "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports], "--cluster-yes",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(create.communicate(), 30)
        assert create.returncode == 0, output.decode()
        client = connect(f"redis+cluster://127.0.0.1:{ports[0]}")
        assert isinstance(client, RedisCluster)
        for _ in range(100):  # the nodes agree on the slots within a moment
            info = await client.cluster_info()
            if info.get("cluster_state") == "ok":
                break
            await asyncio.sleep(0.05)
        yield client
        await client.aclose()
    finally:
        for node in nodes:
            await stop_redis(node)


async def test_history_usage_and_chat_order_on_redis_cluster(cluster: RedisCluster) -> None:
    keys = RedisKeys("gonka")
    history = RedisHistoryStore(cluster, keys)
    chat = ChatKey(-100123, thread_id=5)
    await history.append(chat, [ChatMessage("user", "q", 3), ChatMessage("assistant", "a", 4)], 10)
    await history.replace(chat, -1, ChatMessage("assistant", "a+", 5))
    assert [m.content for m in await history.load(chat)] == ["q", "a+"]

    usage = RedisUsageStore(cluster, keys)
    at = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    await usage.add(7, "m", Usage(10, 5), at, group_id=-100123)
    await usage.add(7, "m", Usage(1, 1), at)
    assert (await usage.totals(7, at)).all_time == Usage(11, 6)
    assert (await usage.group_totals(-100123, at)).today == Usage(10, 5)

    order = RedisChatOrder(cluster, keys, ttl=2.0, poll=0.01)
    assert await order.admit(900, -100123)
    assert not await order.admit(900, -100123)  # a redelivery
    assert await order.admit(901, None)
    ran: list[int] = []

    async def turn(update_id: int) -> int:
        ran.append(update_id)
        await asyncio.sleep(0.05)
        return update_id

    results = await asyncio.gather(
        order.run(-100123, 902, lambda: turn(902), admitted=False),
        order.run(-100123, 900, lambda: turn(900)),
        order.run(-100123, 901, lambda: turn(901), admitted=False),
    )
    assert results == [902, 900, 901]
    assert ran == [900, 901, 902]  # update_id order, whatever the arrival order
    assert await order.run(-100123, 902, lambda: turn(902), admitted=False) is None
    await history.clear(chat)
    assert await history.load(chat) == []
