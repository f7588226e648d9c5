"""UsageStore on Redis: usage counters per user, group and period, the bot-wide stats, and the
quota holds' settlement (the period is in the key, so it rolls over)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterPipeline

from bot.adapters.redis_client import guard, guard_write
from bot.adapters.redis_keys import RedisKeys, UsageOwner, usage_periods
from bot.adapters.redis_quota import RedisQuota
from bot.adapters.redis_usage_series import DAY_TTL, MONTH_TTL, UsageSeries
from bot.core.models import PeriodStats, Usage, UsageTotals
from bot.core.quota import Hold, QuotaLimits


class RedisUsageStore(UsageSeries):
    """Usage counters per user and group and period; the period is in the key, so it rolls over."""

    def __init__(self, redis: Redis | RedisCluster, keys: RedisKeys) -> None:
        self._redis = redis
        self._keys = keys
        self._quota = RedisQuota(redis, keys)
        # The bot-wide stats keys are shared by every reply: their EXPIRE goes out once a day
        # (the day it was sent, by key; a dozen keys, cleared when the day changes).
        self._expired: dict[str, str] = {}

    async def reserve(self, owner_id: int, limits: QuotaLimits, amount: int, at: datetime) -> Hold:
        return await self._quota.reserve(owner_id, limits, amount, at)

    async def release(self, hold: Hold) -> None:
        await self._quota.release(hold)

    async def add(
        self,
        user_id: int,
        model: str,
        usage: Usage,
        at: datetime,
        group_id: int | None = None,
        chat_id: int | None = None,
        hold: Hold | None = None,
    ) -> None:
        owners: list[UsageOwner] = [("user", user_id)]
        if group_id is not None:
            owners.append(("chat", group_id))
        day = usage_periods(at)[0]

        # A hold of paid tokens is settled by one script (day and month counted, the paid tokens
        # spent debited atomically), the rest in one round trip after it; a hold of free
        # tokens only is dropped in that round trip, as the usage is counted there.
        paid, settled = 0, None
        if hold is not None and hold.paid:
            paid = await self._quota.settle(hold, usage, at, (DAY_TTL, MONTH_TTL))
            settled = ("user", hold.owner_id)
        free_hold = hold if hold is not None and not hold.paid else None
        if any(when != day for when in self._expired.values()):
            self._expired.clear()
        expiring: list[str] = []

        async def run() -> None:
            expiring.clear()
            async with self._redis.pipeline(transaction=False) as pipe:
                for owner in owners:
                    self._count_owner(pipe, owner, owner == settled, at, model, usage)
                unexpired = self._count_all_stats(
                    pipe, at, user_id, model, usage, chat_id, expiring
                )
                if paid:
                    pipe.hincrby(self._keys.stats("stars", "all"), "paid_used", paid)
                if free_hold is not None:  # settled: the real usage is counted above
                    pipe.hdel(self._keys.holds(free_hold.owner_id), free_hold.hold_id)
                results = await pipe.execute()
            self._expired_sent(results, unexpired, expiring, day)

        await guard_write(run)

    def _count_all_stats(
        self,
        pipe: Pipeline | ClusterPipeline,
        at: datetime,
        user_id: int,
        model: str,
        usage: Usage,
        chat_id: int | None,
        expiring: list[str],
    ) -> list[int]:
        """Counts the reply in the bot-wide stats of the day, the month and all time; returns
        where in the pipeline a stats request count is that was sent without its EXPIRE."""
        day, month, total = usage_periods(at)
        idle = self._keys.idle_ttl or None
        unexpired: list[int] = []
        for period, ttl in ((day, DAY_TTL), (month, MONTH_TTL), (total, idle)):
            index = len(pipe) + 2
            keys = self._count_stats(pipe, period, user_id, model, usage, chat_id)
            if ttl and not self._expire(pipe, keys, ttl, day, expiring):
                unexpired.append(index)
        return unexpired

    def _expired_sent(
        self, results: list[Any], unexpired: list[int], expiring: list[str], day: str
    ) -> None:
        """Remembers the stats keys given their EXPIRE today, once the pipeline has run."""
        if any(results[i] == 1 for i in unexpired):
            # A stats key was created by this reply without its EXPIRE (Redis lost it since
            # the day's EXPIRE, e.g. restarted without persistence): send them again.
            self._expired.clear()
        else:
            self._expired.update(dict.fromkeys(expiring, day))

    def _count_owner(
        self,
        pipe: Pipeline | ClusterPipeline,
        owner: UsageOwner,
        settled: bool,
        at: datetime,
        model: str,
        usage: Usage,
    ) -> None:
        """One owner's usage per period (`settled`: its day and month were counted by the
        hold's settlement) and the daily series of its /usage picture (tokens per model)."""
        day, month, total = usage_periods(at)
        for period, ttl in ((day, DAY_TTL), (month, MONTH_TTL), (total, self._keys.idle_ttl)):
            if settled and period != total:
                continue
            key = self._keys.usage(owner, period)
            pipe.hincrby(key, "prompt", usage.prompt_tokens)
            pipe.hincrby(key, "completion", usage.completion_tokens)
            pipe.hincrby(key, "requests", 1)
            if ttl:
                pipe.expire(key, ttl)
        daily = self._keys.usage(owner, f"models:{day}")
        pipe.hincrby(daily, model, usage.total_tokens)
        pipe.expire(daily, DAY_TTL)

    def _expire(
        self,
        pipe: Pipeline | ClusterPipeline,
        keys: list[str],
        ttl: int,
        day: str,
        expiring: list[str],
    ) -> bool:
        """EXPIRE on those of `keys` not sent one today; whether any was sent."""
        sent = False
        for key in keys:
            if self._expired.get(key) != day:
                pipe.expire(key, ttl)
                expiring.append(key)
                sent = True
        return sent

    async def totals(self, user_id: int, at: datetime) -> UsageTotals:
        return await self._totals(("user", user_id), at)

    async def group_totals(self, group_id: int, at: datetime) -> UsageTotals:
        return await self._totals(("chat", group_id), at)

    async def _totals(self, owner: UsageOwner, at: datetime) -> UsageTotals:
        keys = [self._keys.usage(owner, period) for period in usage_periods(at)]

        async def run() -> list[Any]:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.hmget(key, "prompt", "completion", "paid")
                return list(await pipe.execute())

        rows = await guard(run)
        today, month, all_time = (Usage(int(p or 0), int(c or 0)) for p, c, _ in rows)
        paid_today, paid_month = (int(row[2] or 0) for row in rows[:2])
        return UsageTotals(today, month, all_time, paid_today, paid_month)

    def _count_stats(
        self,
        pipe: Pipeline | ClusterPipeline,
        period: str,
        user_id: int,
        model: str,
        usage: Usage,
        chat_id: int | None,
    ) -> list[str]:
        """Counts the reply in the bot-wide stats of `period`; returns the keys written."""
        total = self._keys.stats("usage", period)
        pipe.hincrby(total, "prompt", usage.prompt_tokens)
        pipe.hincrby(total, "completion", usage.completion_tokens)
        pipe.hincrby(total, "requests", 1)
        models = self._keys.stats("models", period)
        pipe.hincrby(models, f"p|{model}", usage.prompt_tokens)
        pipe.hincrby(models, f"c|{model}", usage.completion_tokens)
        users = self._keys.stats("users", period)
        pipe.zincrby(users, usage.total_tokens, str(user_id))
        keys = [total, models, users]
        if chat_id is not None:
            chats = self._keys.stats("chats", period)
            pipe.zincrby(chats, usage.total_tokens, str(chat_id))
            keys.append(chats)
        return keys

    async def stats(self, at: datetime, top: int) -> list[PeriodStats]:
        periods = usage_periods(at)

        async def run() -> list[Any]:
            async with self._redis.pipeline(transaction=False) as pipe:
                for period in periods:
                    pipe.hmget(
                        self._keys.stats("usage", period), "prompt", "completion", "requests"
                    )
                    pipe.hgetall(self._keys.stats("models", period))
                    pipe.zcard(self._keys.stats("users", period))
                    pipe.zrevrange(self._keys.stats("users", period), 0, top - 1, withscores=True)
                    pipe.zrevrange(self._keys.stats("chats", period), 0, top - 1, withscores=True)
                return list(await pipe.execute())

        rows = await guard(run)
        result = []
        for index, period in enumerate(periods):
            totals, models, active, users, chats = rows[index * 5 : index * 5 + 5]
            prompt, completion, requests = (int(v or 0) for v in totals)
            result.append(
                PeriodStats(
                    period=period,
                    usage=Usage(prompt, completion),
                    requests=requests,
                    active_users=int(active),
                    models=_per_model(models),
                    top_users=[(int(_text(m)), int(score)) for m, score in users],
                    top_chats=[(int(_text(m)), int(score)) for m, score in chats],
                )
            )
        return result


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _per_model(fields: dict[Any, Any]) -> dict[str, Usage]:
    prompts: dict[str, int] = {}
    completions: dict[str, int] = {}
    for raw_field, raw_value in fields.items():
        kind, _, model = _text(raw_field).partition("|")
        (prompts if kind == "p" else completions)[model] = int(raw_value)
    return {
        m: Usage(prompts.get(m, 0), completions.get(m, 0))
        for m in prompts.keys() | completions.keys()
    }
