"""What the Stop and Continue buttons need between replicas: a button may reach a replica other
than the one that generated the answer."""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis, RedisCluster

from bot.adapters.redis_keys import RedisKeys

log = logging.getLogger(__name__)

REQUEST_TTL = 600
CONTINUABLE_TTL = 7 * 86400


class RedisReplicaSignals:
    """Stop requests (the generating replica looks for them while it streams) and the chat's
    continuable answer."""

    def __init__(self, redis: Redis | RedisCluster, keys: RedisKeys, *, every: float = 0.5) -> None:
        self._redis = redis
        self._keys = keys
        self._every = every

    async def request(self, chat_id: int, generation_id: str, user_id: int) -> bool:
        """Ask whichever replica runs `generation_id` to stop it; False when Redis is away."""
        key = self._keys.stop_request(chat_id, generation_id)
        try:
            await self._redis.set(key, user_id, ex=REQUEST_TTL)
        except Exception as exc:
            log.warning("stop request not stored chat=%s error=%s", chat_id, exc)
            return False
        return True

    async def watch(
        self, chat_id: int, generation_id: str, user_id: int, stop: asyncio.Event
    ) -> None:
        """Set `stop` when the answer's author asked for it on any replica (runs until cancelled)."""
        key = self._keys.stop_request(chat_id, generation_id)
        while not stop.is_set():
            await asyncio.sleep(self._every)
            try:
                asked = await self._redis.get(key)
            except Exception:
                continue  # Redis away: the local Stop still works
            if asked is not None and int(asked) == user_id:
                stop.set()

    async def set_continuable(self, chat_id: int, generation_id: str | None) -> None:
        """Remember the chat's answer that Continue may extend (None: there is none now)."""
        key = self._keys.continuable(chat_id)
        try:
            if generation_id is None:
                await self._redis.delete(key)
            else:
                await self._redis.set(key, generation_id, ex=CONTINUABLE_TTL)
        except Exception as exc:
            log.warning("continuable answer not stored chat=%s error=%s", chat_id, exc)

    async def take_continuable(self, chat_id: int, generation_id: str) -> bool:
        """True once if `generation_id` is the chat's continuable answer (under the chat's lock)."""
        key = self._keys.continuable(chat_id)
        try:
            current = await self._redis.get(key)
            if current is None:
                return False
            if (current.decode() if isinstance(current, bytes) else current) != generation_id:
                return False
            await self._redis.delete(key)
        except Exception as exc:
            log.warning("continuable answer not read chat=%s error=%s", chat_id, exc)
            return False
        return True
