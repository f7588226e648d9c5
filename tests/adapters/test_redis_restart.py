"""A Redis restart in the middle of a turn: the turn's writes wait for it, and the chat's lock
is released once it is back, not left to block the chat until it expires."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from redis.asyncio import Redis

from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_order import RedisChatOrder
from bot.adapters.redis_store import RedisHistoryStore
from bot.adapters.redis_usage import RedisUsageStore
from bot.core.models import ChatKey, ChatMessage, Usage
from tests.e2e.redis_servers import free_port, start_redis, stop_redis

CHAT = 777


async def _restart_later(tmp_path: Path, port: int, delay: float) -> asyncio.subprocess.Process:
    await asyncio.sleep(delay)
    return await start_redis(tmp_path, port)


async def test_the_turns_writes_wait_for_redis_to_come_back(tmp_path: Path) -> None:
    port = free_port()
    server = await start_redis(tmp_path, port)
    redis = Redis.from_url(f"redis://127.0.0.1:{port}/0")
    keys = RedisKeys("t")
    history, usage = RedisHistoryStore(redis, keys), RedisUsageStore(redis, keys)
    try:
        await history.append(ChatKey(CHAT), [ChatMessage("user", "q1", 2)], keep=10)
        await stop_redis(server)
        back = asyncio.create_task(_restart_later(tmp_path, port, 1.0))
        at = datetime(2026, 12, 1, tzinfo=UTC)
        await asyncio.gather(
            history.append(ChatKey(CHAT), [ChatMessage("assistant", "a1", 2)], keep=10),
            usage.add(5, "m", Usage(3, 4), at),
        )
        server = await back
        assert [m.content for m in await history.load(ChatKey(CHAT))] == ["q1", "a1"]
        assert (await usage.totals(5, at)).today == Usage(3, 4)
    finally:
        await redis.aclose()
        await stop_redis(server)


async def test_a_lock_whose_release_failed_is_released_when_redis_is_back(
    tmp_path: Path,
) -> None:
    port = free_port()
    server = await start_redis(tmp_path, port)
    redis = Redis.from_url(f"redis://127.0.0.1:{port}/0")
    keys = RedisKeys("t")
    order = RedisChatOrder(redis, keys, ttl=30)
    lock = keys.chat_order(CHAT)[0]

    async def turn_meets_a_restart() -> None:
        await stop_redis(server)

    try:
        await order.run(CHAT, 1, turn_meets_a_restart, admitted=False)
        server = await start_redis(tmp_path, port)  # with its data: the lock too (30 s)
        for _ in range(50):
            if not await redis.exists(lock):
                break
            await asyncio.sleep(0.1)
        assert not await redis.exists(lock)  # released within seconds, not after 30 s
    finally:
        await order.aclose()
        await redis.aclose()
        await stop_redis(server)
