"""Stop requests between replicas: the Stop button may reach a replica other than the one
generating the answer; that one looks for the request while it streams."""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis, RedisCluster

from bot.adapters.redis_keys import RedisKeys

log = logging.getLogger(__name__)

REQUEST_TTL = 600


class RedisStopRequests:
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
