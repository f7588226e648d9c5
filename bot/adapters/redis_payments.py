"""The payments ledger on Redis: a payment and its credit, a refund and its debit, each one Lua
script on the user's slot (`{user:<id>}`), keyed by Telegram's charge id, so a redelivered update
or a second replica cannot count one twice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.adapters.redis_client import RedisClient, guard, guard_write
from bot.adapters.redis_keys import RedisKeys
from bot.core.payments import Payment, Refund, StarTotals, Wallet

# KEYS: wallet, payments, paylog. ARGV: charge id, record, kind, tokens, until (ms).
# A pack adds its tokens to the balance; a subscription's payment (first or renewal) sets the
# allowance of its period, until its end (a late older renewal never shortens it).
_CREDIT = """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return {0, 0, 0, 0} end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('LPUSH', KEYS[3], ARGV[1])
if ARGV[3] == 'p' then
  redis.call('HINCRBY', KEYS[1], 'balance', ARGV[4])
elseif tonumber(ARGV[5]) >= (tonumber(redis.call('HGET', KEYS[1], 'until')) or 0) then
  redis.call('HSET', KEYS[1], 'sub', ARGV[4], 'until', ARGV[5])
end
local w = redis.call('HMGET', KEYS[1], 'balance', 'sub', 'until')
return {1, tonumber(w[1]) or 0, tonumber(w[2]) or 0, tonumber(w[3]) or 0}
"""

# KEYS: wallet, payments. ARGV: charge id. A pack's refund debits what is left of its tokens
# (never below zero); a subscription's ends its allowance. Marked once: `r:<charge id>`.
_REFUND = """
local record = redis.call('HGET', KEYS[2], ARGV[1])
if not record then return {'unknown', 0, 0} end
local balance = tonumber(redis.call('HGET', KEYS[1], 'balance')) or 0
if redis.call('HEXISTS', KEYS[2], 'r:' .. ARGV[1]) == 1 then return {'already', 0, balance} end
local kind, tokens = string.match(record, '^(%a):(%d+):')
local debit = 0
if kind == 'p' then
  debit = math.max(math.min(tonumber(tokens), balance), 0)
  redis.call('HINCRBY', KEYS[1], 'balance', -debit)
  balance = balance - debit
else
  debit = tonumber(redis.call('HGET', KEYS[1], 'sub')) or 0
  redis.call('HSET', KEYS[1], 'sub', 0, 'until', 0)
end
redis.call('HSET', KEYS[2], 'r:' .. ARGV[1], debit)
return {'done', debit, balance}
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _record(payment: Payment) -> str:
    return f"{payment.kind}:{payment.tokens}:{payment.stars}:{payment.at.timestamp():.0f}:{payment.until:.0f}"


class RedisPaymentStore:
    """PaymentStore on Redis (or the embedded store: the same scripts run on fakeredis)."""

    def __init__(self, redis: RedisClient, keys: RedisKeys) -> None:
        self._redis = redis
        self._keys = keys
        self._credit = redis.register_script(_CREDIT)
        self._refund = redis.register_script(_REFUND)

    async def credit(self, payment: Payment, now: float) -> Wallet | None:
        charges = self._keys.charges()
        user = payment.user_id
        # The charge's owner first (idempotent): a refund can find it once it is credited.
        await guard_write(lambda: self._redis.hset(charges, payment.charge_id, str(user)))
        keys = [self._keys.wallet(user), *self._keys.payments(user)]
        args: list[str | int] = [
            payment.charge_id, _record(payment), payment.kind, payment.tokens,
            int(payment.until * 1000),
        ]  # fmt: skip
        new, balance, sub, until = await guard_write(lambda: self._credit(keys=keys, args=args))
        if not int(new):
            return None
        stats = self._keys.stats("stars", "all")
        await guard_write(lambda: self._redis.hincrby(stats, "received", payment.stars))
        live = int(until) > now * 1000
        return Wallet(int(balance), int(sub) if live else 0, int(until) / 1000 if live else 0.0)

    async def owner(self, charge_id: str) -> int | None:
        raw = await guard(lambda: self._redis.hget(self._keys.charges(), charge_id))
        return int(_text(raw)) if raw is not None else None

    async def refund(self, user_id: int, charge_id: str) -> Refund:
        keys = [self._keys.wallet(user_id), self._keys.payments(user_id)[0]]
        status, debited, balance = await guard_write(
            lambda: self._refund(keys=keys, args=[charge_id])
        )
        result = _text(status)
        if result == "done":
            payment = (await self._read(user_id, [charge_id]))[0]
            stats = self._keys.stats("stars", "all")
            await guard_write(lambda: self._redis.hincrby(stats, "refunded", payment.stars))
            return Refund("done", user_id, int(debited), int(balance))
        return Refund("already" if result == "already" else "unknown", user_id, 0, int(balance))

    async def wallet(self, user_id: int, now: float) -> Wallet:
        fields = ("balance", "sub", "until")
        raw = await guard(lambda: self._redis.hmget(self._keys.wallet(user_id), *fields))
        balance, sub, until = (int(value or 0) for value in raw)
        live = until > now * 1000
        return Wallet(max(balance, 0), max(sub, 0) if live else 0, until / 1000 if live else 0.0)

    async def payments(self, user_id: int, limit: int) -> list[Payment]:
        log_key = self._keys.payments(user_id)[1]
        ids = await guard(lambda: self._redis.lrange(log_key, 0, limit - 1 if limit else -1))
        return await self._read(user_id, [_text(charge) for charge in ids])

    async def _read(self, user_id: int, charge_ids: list[str]) -> list[Payment]:
        if not charge_ids:
            return []
        key = self._keys.payments(user_id)[0]
        fields = [*charge_ids, *(f"r:{charge}" for charge in charge_ids)]
        raw = await guard(lambda: self._redis.hmget(key, fields))
        result = []
        for index, charge in enumerate(charge_ids):
            record, refunded = raw[index], raw[index + len(charge_ids)]
            kind, tokens, stars, at, until = _text(record).split(":")
            at_time = datetime.fromtimestamp(int(at), UTC)
            paid = Payment(charge, user_id, "s" if kind == "s" else "p", int(tokens), int(stars),
                           at_time, refunded is not None, float(until))  # fmt: skip
            result.append(paid)
        return result

    async def totals(self) -> StarTotals:
        stats = self._keys.stats("stars", "all")
        raw = await guard(lambda: self._redis.hmget(stats, "received", "refunded", "paid_used"))
        received, refunded, used = (int(value or 0) for value in raw)
        return StarTotals(received, refunded, used)

    async def synced(self) -> int:
        raw = await guard(lambda: self._redis.get(self._keys.star_sync()))
        return int(raw or 0)

    async def mark_synced(self, count: int) -> None:
        await guard_write(lambda: self._redis.set(self._keys.star_sync(), count))
