"""The payments ledger and the paid balance against the quota holds, on fakeredis (the embedded
store's engine) and on the real Redis server: credited once per charge, spent only after the
free quota, never overspent by parallel turns, refunded once."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from redis.asyncio import Redis

from bot.adapters.redis_keys import RedisKeys
from bot.adapters.redis_payments import RedisPaymentStore
from bot.adapters.redis_settings import RedisAccessStore
from bot.adapters.redis_usage import RedisUsageStore
from bot.core.models import Usage
from bot.core.payments import Payment, StarTotals
from bot.core.quota import Attempt, QuotaLimits

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LIMITS = QuotaLimits(daily=100, monthly=0)
USER = 7


def _pack(charge: str, tokens: int = 1000, stars: int = 25) -> Payment:
    return Payment(charge, USER, "p", tokens, stars, AT)


async def test_a_charge_is_credited_once_even_when_delivered_at_once_twice(
    redis: Redis, key_prefix: str
) -> None:
    store = RedisPaymentStore(redis, RedisKeys(key_prefix))
    now = time.time()
    results = await asyncio.gather(*(store.credit(_pack("c1"), now) for _ in range(5)))
    assert sum(r is not None for r in results) == 1
    assert (await store.wallet(USER, now)).balance == 1000
    assert [p.charge_id for p in await store.payments(USER, 0)] == ["c1"]
    assert await store.owner("c1") == USER
    assert await store.totals() == StarTotals(25, 0, 0)


async def test_parallel_turns_cannot_overspend_the_paid_balance(
    redis: Redis, key_prefix: str
) -> None:
    keys = RedisKeys(key_prefix)
    usage, payments = RedisUsageStore(redis, keys), RedisPaymentStore(redis, keys)
    await usage.add(USER, "m", Usage(100, 0), AT)  # the free quota is used up
    await payments.credit(_pack("c1", tokens=100), time.time())
    holds = await asyncio.gather(*(usage.reserve(USER, LIMITS, 40, AT) for _ in range(10)))
    granted = sorted((h.amount for h in holds if not h.exhausted), reverse=True)
    assert granted == [40, 40, 20]  # clamped to what is left of the paid balance
    assert sum(1 for h in holds if h.exhausted == "day") == 7
    # Every turn is charged what the upstream reports, and the balance never goes below zero.
    live = [h for h in holds if not h.exhausted]
    await asyncio.gather(*(usage.add(USER, "m", Usage(20, 20), AT, hold=h) for h in live))
    assert (await payments.wallet(USER, time.time())).balance == 0
    assert (await payments.totals()).paid_tokens_used == 100
    attempt = Attempt(USER, 1, AT, time.time(), 10, 0, LIMITS)
    assert (await RedisAccessStore(redis, keys).attempt(attempt)).refusal == "quota_day"


async def test_paid_tokens_are_spent_only_after_the_free_quota(
    redis: Redis, key_prefix: str
) -> None:
    keys = RedisKeys(key_prefix)
    usage, payments = RedisUsageStore(redis, keys), RedisPaymentStore(redis, keys)
    await payments.credit(_pack("c1"), time.time())
    hold = await usage.reserve(USER, LIMITS, 150, AT)
    assert hold.amount == 150  # 100 free, 50 paid
    await usage.add(USER, "m", Usage(50, 20), AT, hold=hold)  # 70: all of it free
    assert (await payments.wallet(USER, time.time())).balance == 1000
    hold = await usage.reserve(USER, LIMITS, 100, AT)
    await usage.add(USER, "m", Usage(40, 10), AT, hold=hold)  # 30 free left, 20 paid
    assert (await payments.wallet(USER, time.time())).balance == 980
    # The next day the free quota is back; the paid usage did not count against it.
    next_day = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    hold = await usage.reserve(USER, QuotaLimits(100, 200), 100, next_day)
    await usage.add(USER, "m", Usage(60, 20), next_day, hold=hold)
    assert (await payments.wallet(USER, time.time())).balance == 980  # month: 100 free of 200


async def test_a_refund_debits_what_is_left_once_never_below_zero(
    redis: Redis, key_prefix: str
) -> None:
    keys = RedisKeys(key_prefix)
    usage, payments = RedisUsageStore(redis, keys), RedisPaymentStore(redis, keys)
    await usage.add(USER, "m", Usage(100, 0), AT)
    await payments.credit(_pack("c1", tokens=100), time.time())
    hold = await usage.reserve(USER, LIMITS, 100, AT)
    await usage.add(USER, "m", Usage(30, 30), AT, hold=hold)  # 40 of the pack left
    first, second = await asyncio.gather(payments.refund(USER, "c1"), payments.refund(USER, "c1"))
    assert sorted((first.status, second.status)) == ["already", "done"]
    assert max(first.debited, second.debited) == 40
    assert (await payments.wallet(USER, time.time())).balance == 0
    assert (await payments.refund(USER, "nope")).status == "unknown"
    assert (await payments.payments(USER, 0))[0].refunded
    assert await payments.totals() == StarTotals(25, 25, 60)


async def test_a_subscription_allowance_lasts_until_its_end(redis: Redis, key_prefix: str) -> None:
    keys = RedisKeys(key_prefix)
    usage, payments = RedisUsageStore(redis, keys), RedisPaymentStore(redis, keys)
    now = time.time()
    await usage.add(USER, "m", Usage(100, 0), AT)
    sub = Payment("s1", USER, "s", 300, 150, AT, until=now + 3600)
    wallet = await payments.credit(sub, now)
    assert wallet is not None and wallet.subscription == 300
    await payments.credit(_pack("c1", tokens=50), now)
    hold = await usage.reserve(USER, LIMITS, 400, AT)
    assert hold.amount == 350
    await usage.add(USER, "m", Usage(200, 120), AT, hold=hold)  # the allowance first
    wallet = await payments.wallet(USER, now)
    assert (wallet.subscription, wallet.balance) == (0, 30)
    # A renewal gives a new period's allowance; after its end nothing is left of it.
    await payments.credit(Payment("s2", USER, "s", 300, 150, AT, until=now + 7200), now)
    assert (await payments.wallet(USER, now)).subscription == 300
    assert (await payments.wallet(USER, now + 7201)).total == 30
