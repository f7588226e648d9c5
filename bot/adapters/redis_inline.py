"""Inline mode's pending questions in the store (a Redis server or the embedded one): any
replica starts a choice, a restart loses none, and a choice is claimed with one SET NX."""

from __future__ import annotations

from redis.asyncio import Redis, RedisCluster

from bot.adapters.redis_keys import RedisKeys
from bot.core.inline import FULL_TTL, PENDING_TTL, SENDING_TTL, PendingQuestion


class RedisInlinePending:
    """Implements core.inline.InlinePending."""

    def __init__(self, redis: Redis | RedisCluster, keys: RedisKeys) -> None:
        self._redis = redis
        self._prefix = f"{keys.prefix}:{{inline}}"

    def _key(self, kind: str, result_id: str) -> str:
        return f"{self._prefix}:{kind}:{result_id}"

    async def put(self, result_id: str, pending: PendingQuestion) -> None:
        await self._redis.set(self._key("q", result_id), pending.dumps(), ex=PENDING_TTL)

    async def get(self, result_id: str) -> PendingQuestion | None:
        raw = await self._redis.get(self._key("q", result_id))
        if raw is None:
            return None
        return PendingQuestion.loads(raw.decode() if isinstance(raw, bytes) else str(raw))

    async def claim(self, result_id: str, attempt: int) -> bool:
        key = self._key("claim", f"{result_id}:{attempt}")
        return bool(await self._redis.set(key, "1", nx=True, ex=PENDING_TTL))

    async def put_full(self, result_id: str, text: str) -> None:
        await self._redis.set(self._key("full", result_id), text, ex=FULL_TTL)

    async def get_full(self, result_id: str) -> str | None:
        raw = await self._redis.get(self._key("full", result_id))
        if raw is None:
            return None
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    async def begin_full(self, result_id: str) -> bool:
        key = self._key("sending", result_id)
        return bool(await self._redis.set(key, "1", nx=True, ex=SENDING_TTL))

    async def end_full(self, result_id: str) -> None:
        await self._redis.delete(self._key("sending", result_id))
