"""The admin-alert ledger in Redis: replicas share who told the admins what, and when."""

from __future__ import annotations

from typing import Literal

from redis.asyncio import Redis, RedisCluster

from bot.adapters.redis_keys import RedisKeys

Claim = Literal["send", "told", "untold"]
_SENT = b"told"


class RedisAlertLedger:
    """One key per kind: "sending" while a replica sends (SET NX), then "told" for the
    interval or "failed" for the retry pause; both expire by themselves."""

    def __init__(self, redis: Redis | RedisCluster, keys: RedisKeys) -> None:
        self._redis = redis
        self._keys = keys

    async def claim(self, kind: str, hold: float) -> Claim:
        key = self._keys.admin_alert(kind)
        if await self._redis.set(key, "sending", nx=True, px=max(1, int(hold * 1000))):
            return "send"
        return "told" if await self._redis.get(key) in (_SENT, "told") else "untold"

    async def settle(self, kind: str, delivered: bool, keep: float) -> None:
        state = "told" if delivered else "failed"
        await self._redis.set(self._keys.admin_alert(kind), state, px=max(1, int(keep * 1000)))
