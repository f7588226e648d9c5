"""Without REDIS_URL the data lives in the process and in a snapshot under DATA_DIR."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.adapters.embedded_store import EmbeddedStore
from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_store import RedisHistoryStore
from bot.app import build_store
from bot.config import Settings
from bot.core.models import ChatKey, ChatMessage

CHAT = ChatKey(42)


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, bot_token="1:x", gonka_api_key="k", **values)  # type: ignore[call-arg,arg-type]


async def test_a_restart_keeps_the_history(tmp_path: Path) -> None:
    settings = _settings(data_dir=tmp_path)
    keys = RedisKeys("gonka")
    redis, store = build_store(settings)
    assert store is not None
    await RedisHistoryStore(redis, keys).append(CHAT, [ChatMessage("user", "apple ябл", 3)], 10)
    await store.close()

    redis, store = build_store(settings)  # the "process" starts again on the same DATA_DIR
    assert store is not None
    assert await RedisHistoryStore(redis, keys).load(CHAT) == [ChatMessage("user", "apple ябл", 3)]
    await store.close()


async def test_a_crash_loses_at_most_the_snapshot_interval(tmp_path: Path) -> None:
    first = EmbeddedStore(tmp_path, interval=0.1)
    first.load()
    first.start()
    await first.client.hset("h", mapping={"a": "1", "bin": b"\xff\x00"})
    await first.client.zadd("z", {"m": 1.25})
    await first.client.set("short", "x", ex=600)
    await first.client.rpush("l", "1", "2")
    await asyncio.sleep(0.35)  # more than one interval: this is on disk
    await first.client.set("late", "lost")
    first._task.cancel()  # type: ignore[union-attr]  # killed: no final save

    second = EmbeddedStore(tmp_path, interval=0.1)
    assert second.load() == 4
    client = second.client
    assert await client.hgetall("h") == {b"a": b"1", b"bin": b"\xff\x00"}
    assert await client.zrange("z", 0, -1, withscores=True) == [(b"m", 1.25)]
    assert await client.lrange("l", 0, -1) == [b"1", b"2"]
    assert 590_000 < await client.pttl("short") <= 600_000
    assert await client.get("late") is None
    await second.close()


async def test_an_idle_store_writes_nothing(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path, interval=0.05)
    store.load()
    store.start()
    await store.client.get("nothing")
    await asyncio.sleep(0.2)
    assert not store.path.exists()
    await store.client.set("k", "v")
    await asyncio.sleep(0.2)
    assert store.path.exists()
    await store.close()


async def test_deletions_and_rewrites_reach_the_snapshot(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path, interval=0.05)
    store.load()
    store.start()
    await store.client.set("gone", "1")
    await store.client.rpush("list", "a")
    await asyncio.sleep(0.2)
    await store.client.delete("gone")
    await store.client.rpush("list", "b")
    await store.close()
    again = EmbeddedStore(tmp_path)
    assert again.load() == 1
    assert await again.client.lrange("list", 0, -1) == [b"a", b"b"]
    await again.close()
