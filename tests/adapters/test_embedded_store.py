"""Without REDIS_URL the data lives in the process and in a file under DATA_DIR."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.embedded_store import EmbeddedStore
from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_store import RedisHistoryStore
from bot.adapters.redis_variants import RedisVariantStore
from bot.app import build_store
from bot.config import Settings
from bot.core.models import ChatKey, ChatMessage
from bot.core.redo import Asked
from bot.core.variants import AnswerVariants, Variant

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


async def test_a_restart_keeps_what_a_turns_one_script_wrote(tmp_path: Path) -> None:
    """The last answer and its question, written by one Lua script, reach the file too."""
    settings = _settings(data_dir=tmp_path)
    keys = RedisKeys("gonka", idle_ttl=3600)
    redis, store = build_store(settings)
    assert store is not None
    answer = AnswerVariants("a1", 7, (5,), (Variant((ChatMessage("assistant", "A", 2),), "m"),))
    await RedisVariantStore(redis, keys).save_answered(CHAT, answer, Asked.of(4, "q", 7), 50)
    await store.close()

    redis, store = build_store(settings)
    assert store is not None
    restarted = RedisVariantStore(redis, keys)
    assert await restarted.load(CHAT) == answer
    assert await restarted.questions(CHAT) == [Asked.of(4, "q", 7)]
    assert 0 < await redis.ttl(keys.questions(CHAT)) <= 3600
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


def _files(directory: Path) -> dict[str, tuple[int, int]]:
    return {f.name: (f.stat().st_size, f.stat().st_mtime_ns) for f in directory.iterdir()}


async def test_an_idle_store_writes_nothing(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path, interval=0.05)
    store.load()
    store.start()
    opened = _files(tmp_path)
    await store.client.get("nothing")
    await asyncio.sleep(0.2)
    assert _files(tmp_path) == opened
    await store.client.set("k", "v")
    for _ in range(100):  # the save runs within `interval`; a loaded machine may take longer
        await asyncio.sleep(0.05)
        if _files(tmp_path) != opened:
            break
    assert _files(tmp_path) != opened
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


def _written() -> int:
    """Bytes this process has passed to write() and pwrite() so far."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise AssertionError("no wchar in /proc/self/io")


async def test_a_save_writes_what_changed_not_the_whole_store(tmp_path: Path) -> None:
    """The store rewrote its whole file on every save: 6.4 MB every 2 s at 1,500 chats."""
    store = EmbeddedStore(tmp_path)
    store.load()
    async with store.client.pipeline(transaction=False) as pipe:
        for n in range(2000):
            pipe.rpush(f"chat:{n}:history", "x" * 500, "y" * 500)
        await pipe.execute()
    store.save(store.changed())  # 2 MB of history
    await store.client.rpush("chat:7:history", "one more turn")
    before = _written()
    store.save(store.changed())
    assert _written() - before < 64_000
    await store.close()


async def test_an_earlier_versions_store_json_is_moved_in_once(tmp_path: Path) -> None:
    later = int(time.time() * 1000) + 600_000
    legacy = {
        "version": 1,
        "keys": [
            ["gonka:{chat:42}:history", "list", None, ["first", "second \udcff"]],
            ["gonka:{user:1}:usage:all", "hash", later, ["prompt", "12", "requests", "1"]],
            ["gonka:{stats}:users:all", "zset", None, ["1", "12.5"]],
            ["gonka:gone", "string", 1000, ["expired long ago"]],
        ],
    }
    (tmp_path / "store.json").write_text(json.dumps(legacy), encoding="utf-8")
    for _ in range(2):  # the first start moves it in; the second reads the new file only
        store = EmbeddedStore(tmp_path)
        assert store.load() == 3
        client = store.client
        assert await client.lrange("gonka:{chat:42}:history", 0, -1) == [b"first", b"second \xff"]
        assert await client.hgetall("gonka:{user:1}:usage:all") == {
            b"prompt": b"12",
            b"requests": b"1",
        }
        assert 590_000 < await client.pttl("gonka:{user:1}:usage:all") <= 600_000
        assert await client.zrange("gonka:{stats}:users:all", 0, -1, withscores=True) == [
            (b"1", 12.5)
        ]
        await store.close()
        assert not (tmp_path / "store.json").exists()
    assert (tmp_path / "store.json.migrated").exists()  # kept, never read again


async def test_a_stop_during_a_save_lets_it_end_then_saves_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """close() cancelled the saver while its thread was still writing and started a second
    save beside it (the old snapshot failed with FileNotFoundError on its temporary file)."""
    store = EmbeddedStore(tmp_path, interval=0.01)
    store.load()
    write, entered, release = store.file.write, threading.Event(), threading.Event()
    running, overlapped = [0], [False]

    def slow_write(*args: Any) -> None:
        running[0] += 1
        overlapped[0] |= running[0] > 1
        entered.set()
        release.wait(30)
        try:
            write(*args)
        finally:
            running[0] -= 1

    monkeypatch.setattr(store.file, "write", slow_write)
    store.start()
    await store.client.set("first", "1")
    assert await asyncio.to_thread(entered.wait, 30)
    await store.client.set("second", "2")
    closing = asyncio.create_task(store.close())
    await asyncio.sleep(0.1)  # close() runs up to where it waits
    release.set()
    await closing
    assert not overlapped[0]
    again = EmbeddedStore(tmp_path)
    assert again.load() == 2
    await again.close()
