"""The store's cost of one quota-held turn (reserve, then count and settle), with and without a
paid balance, on fakeredis (the embedded store) and on a real Redis: round trips and wall time.

    .venv/bin/python bench/quota_settle_bench.py --turns 2000 [--redis-url redis://127.0.0.1:6379/15]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime

import fakeredis
from redis.asyncio import Redis

from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_payments import RedisPaymentStore
from bot.adapters.redis_usage import RedisUsageStore
from bot.core.models import Usage
from bot.core.payments import Payment
from bot.core.quota import QuotaLimits

AT = datetime(2026, 12, 1, 12, tzinfo=UTC)


async def run(redis: Redis, turns: int, paid: bool) -> float:
    keys = RedisKeys(f"bench-{uuid.uuid4().hex[:8]}")
    usage = RedisUsageStore(redis, keys)
    limits = QuotaLimits(daily=1000 if paid else 10**12, monthly=0)
    if paid:
        await usage.add(1, "m", Usage(1000, 0), AT)  # the free quota used up: paid from here
        await RedisPaymentStore(redis, keys).credit(
            Payment("c", 1, "p", 10**12, 1, AT), time.time()
        )
    started = time.perf_counter()
    for _ in range(turns):
        hold = await usage.reserve(1, limits, 2048, AT)
        await usage.add(1, "m", Usage(300, 200), AT, hold=hold)
    elapsed = time.perf_counter() - started
    found = [key async for key in redis.scan_iter(match=f"{keys.prefix}:*", count=500)]
    if found:
        await redis.delete(*found)
    return elapsed / turns * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument("--redis-url", default="")
    args = parser.parse_args()
    backends: list[tuple[str, Redis]] = [("fakeredis", fakeredis.aioredis.FakeRedis())]
    if args.redis_url:
        backends.append(("redis", Redis.from_url(args.redis_url)))
    for name, redis in backends:
        for paid in (False, True):
            micros = await run(redis, args.turns, paid)
            label = "paid balance" if paid else "free quota"
            print(f"{name:10} {label:13} {micros:8.0f} us per turn (reserve + count/settle)")
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
