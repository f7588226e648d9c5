"""Per-chat order across replicas: a Redis queue by update_id and a lock that expires.

Updates of one chat run one at a time, lowest update_id first, whichever replica got them.
A waiter that stops polling (crashed replica) drops out of the queue after `ttl`; a holder that
stops refreshing loses the lock after `ttl`. Each chat's keys share a hash tag, so every script
touches one slot (Redis Cluster safe).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis, RedisCluster

from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_store import _guard

log = logging.getLogger(__name__)

# KEYS: seen, queue, alive. ARGV: update_id, seen ttl (s), waiter ttl (ms).
_ADMIT = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then return 0 end
do
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZADD', KEYS[2], 'NX', ARGV[1], ARGV[1])
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
end
return 1
"""

# KEYS: lock, queue, alive. ARGV: update_id, ttl (ms), then this process's other waiters of
# the chat, whose deadlines are renewed too (only the lowest local waiter polls Redis).
# 1 when the caller now holds the lock.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local dead = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, member in ipairs(dead) do
  redis.call('ZREM', KEYS[2], member)
  redis.call('ZREM', KEYS[3], member)
end
for i = 1, #ARGV do
  if i ~= 2 then
    redis.call('ZADD', KEYS[2], 'NX', ARGV[i], ARGV[i])
    redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), ARGV[i])
  end
end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
if redis.call('ZRANGE', KEYS[2], 0, 0)[1] ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
"""

# KEYS: lock. ARGV: update_id, ttl (ms). Refresh (ttl > 0) or release (ttl = 0) one's own lock.
_HOLD = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('DEL', KEYS[1])
"""


class RedisChatOrder:
    """Runs each chat's updates one at a time and in update_id order, over every replica."""

    def __init__(
        self,
        redis: Redis | RedisCluster,
        keys: RedisKeys,
        *,
        ttl: float = 30.0,
        seen_ttl: int = 86400,
        poll: float = 0.05,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl_ms = max(int(ttl * 1000), 1000)
        self._seen_ttl = seen_ttl
        self._poll = poll
        self._admit = redis.register_script(_ADMIT)
        self._acquire = redis.register_script(_ACQUIRE)
        self._hold = redis.register_script(_HOLD)
        # Local waiters per chat: only the lowest update_id of this process polls Redis, so
        # the process keeps its own order even before every waiter reached the Redis queue.
        self._waiting: dict[int, list[int]] = {}
        self._wakeups: dict[int, asyncio.Event] = {}
        self._releases: set[asyncio.Task[None]] = set()

    async def admit(self, update_id: int, chat_id: int | None) -> bool:
        """False when the update was already taken (a redelivery); else marks it taken and, given
        a chat, puts it in that chat's queue in the same round trip."""
        seen = self._keys.seen(update_id, chat_id)
        if chat_id is None:
            result = await _guard(lambda: self._redis.set(seen, 1, nx=True, ex=self._seen_ttl))
            return bool(result)
        _, queue, alive = self._keys.chat_order(chat_id)
        args = [update_id, self._seen_ttl, self._ttl_ms]
        return bool(await _guard(lambda: self._admit(keys=[seen, queue, alive], args=args)))

    async def run(
        self,
        chat_id: int,
        update_id: int,
        call: Callable[[], Awaitable[Any]],
        *,
        admitted: bool = True,
    ) -> Any:
        """Run `call` holding the chat's lock; None without running it for a redelivery."""
        waiting = self._waiting.setdefault(chat_id, [])
        waiting.append(update_id)  # before any await: this process's order is fixed here
        try:
            if not admitted and not await self.admit(update_id, chat_id):
                log.info("duplicate update dropped update_id=%s", update_id)
                return None
            await self._take(chat_id, update_id, waiting)
        finally:
            waiting.remove(update_id)
            self._wake(chat_id)
        refresher = asyncio.create_task(self._refresh(chat_id, update_id))
        try:
            return await call()
        finally:
            refresher.cancel()
            if not await self._release(chat_id, update_id):
                task = asyncio.create_task(self._release_later(chat_id, update_id))
                self._releases.add(task)
                task.add_done_callback(self._releases.discard)
            self._wake(chat_id)
            if not self._waiting.get(chat_id):
                self._waiting.pop(chat_id, None)
                self._wakeups.pop(chat_id, None)

    async def _release(self, chat_id: int, update_id: int) -> bool:
        lock = self._keys.chat_order(chat_id)[0]
        try:
            await self._hold(keys=[lock], args=[update_id, 0])
        except Exception as exc:
            log.warning("chat lock not released chat=%s error=%s", chat_id, type(exc).__name__)
            return False
        return True

    async def _release_later(self, chat_id: int, update_id: int) -> None:
        """Redis was away when the lock was to be released: a restarted Redis (with its data)
        would block the chat until the lock expires. Try again until it expires anyway."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._ttl_ms / 1000
        delay = 0.25
        while loop.time() + delay < deadline:
            await asyncio.sleep(delay)
            if await self._release(chat_id, update_id):
                log.info("chat lock released late chat=%s", chat_id)
                return
            delay = min(delay * 2, 2.0)

    async def aclose(self) -> None:
        """Stop the late releases (the locks expire by themselves)."""
        for task in list(self._releases):
            task.cancel()
        await asyncio.gather(*self._releases, return_exceptions=True)

    async def _take(self, chat_id: int, update_id: int, waiting: list[int]) -> None:
        keys = list(self._keys.chat_order(chat_id))
        while True:
            if update_id == min(waiting):
                got = await _guard(functools.partial(self._try_lock, keys, update_id, waiting))
                if got:
                    return
            wakeup = self._wakeups.setdefault(chat_id, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), self._poll)

    async def _try_lock(self, keys: list[str], update_id: int, waiting: list[int]) -> Any:
        # The other local waiters ride along, so their places in the queue stay alive.
        others = [other for other in waiting if other != update_id]
        return await self._acquire(keys=keys, args=[update_id, self._ttl_ms, *others])

    def _wake(self, chat_id: int) -> None:
        wakeup = self._wakeups.pop(chat_id, None)
        if wakeup is not None:
            wakeup.set()

    async def _refresh(self, chat_id: int, update_id: int) -> None:
        lock = self._keys.chat_order(chat_id)[0]
        while True:
            await asyncio.sleep(self._ttl_ms / 3000)
            try:
                held = await self._hold(keys=[lock], args=[update_id, self._ttl_ms])
            except Exception as exc:
                log.warning("chat lock not refreshed chat=%s error=%s", chat_id, type(exc).__name__)
                continue
            if not held:
                log.warning("chat lock lost chat=%s update_id=%s", chat_id, update_id)
                return
