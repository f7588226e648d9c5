"""The usage store's series (issue 22): seconds transcribed, and tokens per model by day for
the /usage and /stats pictures (a mixin of RedisUsageStore: the same client and keys)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from redis.asyncio import Redis, RedisCluster

from bot.adapters.redis_client import guard, guard_write
from bot.adapters.redis_keys import RedisKeys, UsageOwner, usage_periods

# The usage counters' lifetimes (the store's too): a day's 40 days (the pictures show 30), a
# month's 400.
DAY_TTL = 40 * 86400
MONTH_TTL = 400 * 86400
SPEECH_FIELD = "speech_seconds"


def _tokens_by_model(row: dict[Any, Any], split: bool) -> dict[str, int]:
    """{model: tokens} of a daily hash; the bot's hash splits prompt ("p|m") and completion."""
    out: dict[str, int] = {}
    for field, value in row.items():
        name = field.decode() if isinstance(field, bytes) else str(field)
        if split:
            name = name.split("|", 1)[-1]
        out[name] = out.get(name, 0) + int(value)
    return out


class UsageSeries:
    """Reads and writes the series; the store's own pipeline writes the daily tokens."""

    _redis: Redis | RedisCluster
    _keys: RedisKeys

    async def add_speech(
        self, user_id: int, seconds: int, at: datetime, group_id: int | None = None
    ) -> None:
        """Count seconds transcribed (issue 22) for the user, the group and the bot, by day,
        month and all time, in one round trip."""
        owners: list[UsageOwner] = [("user", user_id)]
        if group_id is not None:
            owners.append(("chat", group_id))
        day, month, total = usage_periods(at)
        idle = self._keys.idle_ttl or None

        async def run() -> None:
            async with self._redis.pipeline(transaction=False) as pipe:
                for period, ttl in ((day, DAY_TTL), (month, MONTH_TTL), (total, idle)):
                    keys = [self._keys.usage(owner, period) for owner in owners]
                    keys.append(self._keys.stats("usage", period))
                    for key in keys:
                        pipe.hincrby(key, SPEECH_FIELD, seconds)
                        if ttl:
                            pipe.expire(key, ttl)
                await pipe.execute()

        await guard_write(run)

    async def speech_seconds(self, owner: UsageOwner | None, at: datetime) -> tuple[int, ...]:
        """Seconds transcribed today, this month and in all, of an owner (None: the bot's)."""
        keys = [
            self._keys.usage(owner, p) if owner else self._keys.stats("usage", p)
            for p in usage_periods(at)
        ]

        async def run() -> list[Any]:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.hget(key, SPEECH_FIELD)
                return list(await pipe.execute())

        return tuple(int(value or 0) for value in await guard(run))

    async def daily(self, owner: UsageOwner | None, days: Sequence[date]) -> list[dict[str, int]]:
        """Tokens per model on each of `days` of a user or chat (owner None: the bot's), in one
        round trip; a day past DAY_TTL reads as empty."""
        periods = [usage_periods(datetime.combine(d, datetime.min.time()))[0] for d in days]

        async def run() -> list[Any]:
            async with self._redis.pipeline(transaction=False) as pipe:
                for period in periods:
                    if owner is None:
                        pipe.hgetall(self._keys.stats("models", period))
                    else:
                        pipe.hgetall(self._keys.usage(owner, f"models:{period}"))
                return list(await pipe.execute())

        return [_tokens_by_model(row, owner is None) for row in await guard(run)]
