"""The store without REDIS_URL: fakeredis in the process, saved to a file under DATA_DIR.

Why fakeredis in front: every store, pipeline and Lua script the bot runs on a Redis server runs
unchanged here, so there is one storage implementation to test, and a bot run without Redis is
one process whose data fits in memory. Changes are seen through keyspace notifications: at most
every `interval` seconds, and once more on a clean stop, the keys written since the last save
are read (one atomic script) and written to the file (bot/adapters/store_file.py), only those:
an idle bot writes nothing, a turn writes its chat's keys and counters, not the whole store. A
crash loses at most `interval` seconds of writes. A save that fails (a full disk, a read-only
mount) keeps its keys for the next one, is retried every interval, and the admins are told; when
the last one, at stop, fails too, close() raises StoreNotSaved.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import fakeredis

from bot.adapters.store_file import LEGACY_NAME, Row, StoreFile, StoreNotSaved

log = logging.getLogger(__name__)

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
LOAD_BATCH = 1000  # keys restored per pipeline at start
ERROR_LOG_INTERVAL = 60.0  # a failing save is logged at most this often (it is retried more)

OnFailure = Callable[[], Awaitable[object]]


class EmbeddedStore:
    """An in-process Redis (fakeredis) whose data survives a restart in `data_dir`."""

    def __init__(self, data_dir: Path, interval: float = 2.0) -> None:
        self._server = fakeredis.FakeServer()
        self._sync = fakeredis.FakeRedis(server=self._server)
        self.client = fakeredis.aioredis.FakeRedis(server=self._server)
        self.file = StoreFile(data_dir)
        self.path = self.file.path
        self._interval = interval
        self._changes = self._sync.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        self._changes.psubscribe("__keyevent@0__:*")
        self._pending: set[bytes] = set()  # changed keys not saved yet
        self._task: asyncio.Task[None] | None = None
        self._on_failure: OnFailure | None = None
        self._telling: asyncio.Task[None] | None = None
        self._saving: asyncio.Future[bool] | None = None
        self._failures = 0
        self._error = ""
        self._next_error_log = 0.0

    def load(self) -> int:
        """Open the file (moving an earlier version's store.json into it, once) and read it into
        the store; returns how many keys it held."""
        self.file.open()
        now_ms = int(time.time() * 1000)
        legacy = self.file.legacy_rows()
        if legacy:
            self.file.write(legacy, [], now_ms)
            done = self.file.retire_legacy()
            log.info("embedded store: %s moved into %s (kept as %s)", LEGACY_NAME, self.path, done)
        count = 0
        pipe = self._sync.pipeline(transaction=False)
        for row in self.file.rows(now_ms):
            _restore(pipe, row)
            count += 1
            if count % LOAD_BATCH == 0:
                pipe.execute()
        pipe.execute()
        self.changed()  # the restore itself is no change to save
        log.info("embedded store loaded keys=%s path=%s", count, self.path)
        return count

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
        """Read the `changed` keys and write them (and only them) to the file, in one
        transaction; returns how many were written or removed."""
        ordered = list(changed)
        read = self._sync.eval(_READ, len(ordered), *ordered) if ordered else []
        now_ms = int(time.time() * 1000)
        rows: list[Row] = []
        deleted: list[bytes] = []
        for key, (kind, ttl, value) in zip(ordered, read, strict=True):
            if kind == b"none":
                deleted.append(key)
            else:
                rows.append((key, kind.decode(), now_ms + ttl if ttl >= 0 else None, value))
        self.file.write(rows, deleted, now_ms)
        return len(ordered)

    def start(self, on_failure: OnFailure | None = None) -> None:
        """Save in the background whenever something changed, every `interval` seconds;
        `on_failure` is awaited (in its own task, one at a time) after each failed save."""
        self._on_failure = on_failure
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self._save_pending()

    async def _save_pending(self) -> bool:
        """Save what changed (and what earlier failed saves left); False when it failed. A save
        under way is not cut off by a cancel (its thread would go on writing): it is shielded."""
        if self._saving is None or self._saving.done():
            self._saving = asyncio.ensure_future(self._save_once())
        return await asyncio.shield(self._saving)

    async def _save_once(self) -> bool:
        self._pending |= self.changed()
        if not self._pending:
            return True
        batch, self._pending = self._pending, set()
        try:
            await asyncio.to_thread(self.save, batch)
        except (OSError, sqlite3.Error) as exc:  # a full disk, a read-only mount...
            self._pending |= batch  # retried with the next save: nothing is dropped
            self._failed(exc)
            return False
        if self._failures:
            log.warning("embedded store saved again after %d failed saves", self._failures)
            self._failures = 0
        return True

    def _failed(self, exc: Exception) -> None:
        self._failures += 1
        self._error = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
        now = time.monotonic()
        if self._failures == 1 or now >= self._next_error_log:
            self._next_error_log = now + ERROR_LOG_INTERVAL
            log.error(
                "embedded store not saved path=%s error=%s failed_saves=%d keys_waiting=%d "
                "(retried every %g s)",
                self.path, self._error, self._failures, len(self._pending), self._interval,
            )  # fmt: skip
        if self._on_failure is not None and (self._telling is None or self._telling.done()):
            self._telling = asyncio.create_task(self._tell(self._on_failure))

    @staticmethod
    async def _tell(on_failure: OnFailure) -> None:
        try:
            await on_failure()
        except Exception as exc:  # telling is best effort; the save is retried regardless
            log.warning("store failure not told error=%s", type(exc).__name__)

    async def close(self) -> None:
        """Stop the background saver and save what changed since its last run; StoreNotSaved
        when that fails (everything is closed first)."""
        for task in (self._task, self._telling):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._telling = None
        if self._saving is not None:  # the saver's last save, if still under way, ends first
            await asyncio.wait([self._saving])
        saved = await self._save_pending()
        self._changes.close()
        await self.client.aclose()
        self.file.close()
        if not saved:
            raise StoreNotSaved(
                f"DATA_DIR={self.path.parent}: the last save failed ({self._error}): "
                f"{len(self._pending)} changed keys are lost"
            )


def _restore(pipe: Any, row: Row) -> None:
    key, kind, expires_at, value = row
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
    if expires_at is not None:
        pipe.pexpireat(key, expires_at)
