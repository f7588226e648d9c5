"""The store without REDIS_URL: fakeredis in the process, snapshotted to a file under DATA_DIR.

Why a snapshot of fakeredis and not SQLite: every store, pipeline and Lua script the bot runs on a
Redis server runs unchanged here, so there is one storage implementation to test, and a bot run
without Redis is one process whose data fits in memory. A snapshot is written, atomically (a
temporary file renamed over the old one), whenever something changed, at most every `interval`
seconds, and once more on a clean stop: a crash loses at most `interval` seconds of writes.
Changes are seen through keyspace notifications: an idle bot writes nothing, and a save reads
only the keys written since the last one (the store is not held for a full dump).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import fakeredis

log = logging.getLogger(__name__)

SNAPSHOT_NAME = "store.json"
FORMAT_VERSION = 1

# One atomic call reads the given keys with their type, time to live (ms) and value.
_READ = """
local out = {}
for _, key in ipairs(KEYS) do
  local kind = redis.call('TYPE', key)['ok']
  local value = {}
  if kind == 'string' then value = {redis.call('GET', key)}
  elseif kind == 'hash' then value = redis.call('HGETALL', key)
  elseif kind == 'list' then value = redis.call('LRANGE', key, 0, -1)
  elseif kind == 'set' then value = redis.call('SMEMBERS', key)
  elseif kind == 'zset' then value = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  end
  table.insert(out, {kind, redis.call('PTTL', key), value})
end
return out
"""

# A key's row in the snapshot: type, when it expires (epoch ms, None: never) and its values.
Row = tuple[str, int | None, list[str]]


def _text(raw: bytes) -> str:
    # Binary-safe: bytes that are not UTF-8 survive as lone surrogates.
    return raw.decode("utf-8", "surrogateescape")


def _raw(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


class EmbeddedStore:
    """An in-process Redis (fakeredis) whose data survives a restart in `data_dir`."""

    def __init__(self, data_dir: Path, interval: float = 2.0) -> None:
        self._server = fakeredis.FakeServer()
        self._sync = fakeredis.FakeRedis(server=self._server)
        self.client = fakeredis.aioredis.FakeRedis(server=self._server)
        self.path = data_dir / SNAPSHOT_NAME
        self._interval = interval
        self._changes = self._sync.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        self._changes.psubscribe("__keyevent@0__:*")
        self._rows: dict[str, Row] = {}
        self._task: asyncio.Task[None] | None = None

    def load(self) -> int:
        """Read the last snapshot into the store; returns how many keys it held."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            return 0
        with self.path.open(encoding="utf-8", errors="surrogatepass") as file:
            data = json.load(file)
        now_ms = int(time.time() * 1000)
        with self._sync.pipeline(transaction=True) as pipe:
            for key, kind, expires_at, value in data["keys"]:
                if expires_at is not None and expires_at <= now_ms:
                    continue
                _restore(pipe, _raw(key), kind, [_raw(v) for v in value])
                if expires_at is not None:
                    pipe.pexpireat(_raw(key), expires_at)
                self._rows[key] = (kind, expires_at, value)
            pipe.execute()
        self.changed()  # the restore itself is no change to save
        log.info("embedded store loaded keys=%s path=%s", len(self._rows), self.path)
        return len(self._rows)

    def changed(self) -> set[bytes]:
        """The keys written since the last call."""
        keys: set[bytes] = set()
        while True:
            message = self._changes.get_message()
            if message is None:
                # get_message() also returns None for a subscription notice: look once more.
                message = self._changes.get_message()
                if message is None:
                    return keys
            if message.get("type") == "pmessage":
                keys.add(message["data"])

    def save(self, changed: set[bytes]) -> int:
        """Read the `changed` keys and write the whole snapshot file, atomically; returns the
        number of keys in it."""
        ordered = list(changed)
        read = self._sync.eval(_READ, len(ordered), *ordered) if ordered else []
        now_ms = int(time.time() * 1000)
        for raw_key, (kind, ttl, value) in zip(ordered, read, strict=True):
            key = _text(raw_key)
            if _text(kind) == "none":
                self._rows.pop(key, None)
            else:
                expires = now_ms + ttl if ttl >= 0 else None
                self._rows[key] = (_text(kind), expires, [_text(v) for v in value])
        keys = [[k, kind, exp, v] for k, (kind, exp, v) in self._rows.items()
                if exp is None or exp > now_ms]  # fmt: skip
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("w", encoding="utf-8", errors="surrogatepass") as file:
            json.dump({"version": FORMAT_VERSION, "keys": keys}, file, ensure_ascii=False)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)
        return len(keys)

    def start(self) -> None:
        """Save in the background whenever something changed, every `interval` seconds."""
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            changed = self.changed()
            if changed:
                try:
                    await asyncio.to_thread(self.save, changed)
                except OSError as exc:  # disk full, permissions: keep serving, say so
                    log.error("embedded store not saved path=%s error=%s", self.path, exc)

    async def close(self) -> None:
        """Stop the background saver and write what changed since its last run."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        changed = self.changed()
        if changed:
            await asyncio.to_thread(self.save, changed)
        self._changes.close()
        await self.client.aclose()


def _restore(pipe: Any, key: bytes, kind: str, value: list[bytes]) -> None:
    pipe.delete(key)
    if kind == "string":
        pipe.set(key, value[0])
    elif kind == "hash":
        pipe.hset(key, mapping=dict(zip(value[::2], value[1::2], strict=True)))
    elif kind == "list":
        pipe.rpush(key, *value)
    elif kind == "set":
        pipe.sadd(key, *value)
    elif kind == "zset":
        pipe.zadd(key, {m: float(s) for m, s in zip(value[::2], value[1::2], strict=True)})
