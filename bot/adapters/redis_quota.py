"""The gate's one round trip (flood, quota use, refusal told once) and quota holds, as Lua.

Every key of a script is on the actor's slot (`{user:<id>}`), so each runs atomically on one
Redis Cluster node.
"""

from __future__ import annotations

import math
import secrets
import time
from datetime import datetime
from typing import Any

from bot.adapters.redis_client import RedisClient, guard
from bot.adapters.redis_keys import RedisKeys, usage_periods
from bot.core.models import Usage
from bot.core.quota import Attempt, AttemptResult, Hold, QuotaLimits, QuotaUse

# A turn never holds tokens longer than this: a crashed process's holds expire by themselves.
HOLD_TTL_MS = 15 * 60 * 1000

# The live holds (HOLDS: field -> "amount:expires_ms[:paid]", `paid` the part of `amount` held
# from the paid balance), dropping expired ones; then the day's and the month's FREE use
# including the free part of the holds (paid usage is counted in the field `paid` and is not
# free use), and the paid tokens held.
_USE = """
local function use(day_key, month_key, holds_key, now_ms)
  local held, paid_held = 0, 0
  local holds = redis.call('HGETALL', holds_key)
  for i = 1, #holds, 2 do
    local amount, expires, paid = string.match(holds[i + 1], '(%d+):(%d+):?(%d*)')
    if tonumber(expires) <= now_ms then
      redis.call('HDEL', holds_key, holds[i])
    else
      paid = tonumber(paid) or 0
      held = held + tonumber(amount) - paid
      paid_held = paid_held + paid
    end
  end
  local d = redis.call('HMGET', day_key, 'prompt', 'completion', 'paid')
  local m = redis.call('HMGET', month_key, 'prompt', 'completion', 'paid')
  return (tonumber(d[1]) or 0) + (tonumber(d[2]) or 0) - (tonumber(d[3]) or 0) + held,
         (tonumber(m[1]) or 0) + (tonumber(m[2]) or 0) - (tonumber(m[3]) or 0) + held,
         paid_held
end
-- The paid tokens of a wallet: the packs' balance, and a subscription's allowance until it ends.
local function wallet(wallet_key, now_ms)
  local w = redis.call('HMGET', wallet_key, 'balance', 'sub', 'until')
  local sub = 0
  if (tonumber(w[3]) or 0) > now_ms then sub = tonumber(w[2]) or 0 end
  return math.max(tonumber(w[1]) or 0, 0), math.max(sub, 0)
end
-- What is left of the free quotas (0 for a limit means none: math.huge when none applies).
local function free_left(daily, monthly, day, month)
  local left = math.huge
  if daily > 0 then left = math.min(left, daily - day) end
  if monthly > 0 then left = math.min(left, monthly - month) end
  return math.max(left, 0)
end
"""

# KEYS: flood, day usage, month usage, holds, told, wallet. ARGV: now (s), window (ms), flood limit,
# flood member, daily, monthly, refusal decided ("" none), now (ms).
_ATTEMPT = (
    _USE
    + """
local now, window_ms, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local now_ms = tonumber(ARGV[8])
local count, oldest = 0, ARGV[1]
if limit > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window_ms / 1000)
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  count = redis.call('ZCARD', KEYS[1])
  oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
  redis.call('PEXPIRE', KEYS[1], window_ms)
end
local daily, monthly = tonumber(ARGV[5]), tonumber(ARGV[6])
local day, month, paid = 0, 0, 0
if daily > 0 or monthly > 0 then
  local paid_held
  day, month, paid_held = use(KEYS[2], KEYS[3], KEYS[4], now_ms)
  local balance, sub = wallet(KEYS[6], now_ms)
  paid = balance + sub - paid_held
end
local refusal = ARGV[7]
if refusal == '' and limit > 0 and count > limit then refusal = 'slow_down' end
if refusal == '' and paid <= 0 then  -- paid tokens are spent once the free quota is used up
  if daily > 0 and day >= daily then refusal = 'quota_day' end
  if refusal == '' and monthly > 0 and month >= monthly then refusal = 'quota_month' end
end
local tell = 0
if refusal ~= '' then
  local told_until = tonumber(redis.call('HGET', KEYS[5], refusal) or '0')
  if told_until <= now_ms then
    tell = 1
    redis.call('HSET', KEYS[5], refusal, now_ms + window_ms)
    redis.call('PEXPIRE', KEYS[5], window_ms)
  end
end
return {count, oldest, day, month, refusal, tell}
"""
)

# KEYS: day usage, month usage, holds, wallet. ARGV: daily, monthly, amount, hold id, now (ms),
# hold ttl (ms). Holds what is left of the free quotas first, then of the paid tokens (not held
# by other turns). Returns {tokens held, "" or the period used up, paid tokens held}.
_RESERVE = (
    _USE
    + """
local now_ms = tonumber(ARGV[5])
local day, month, paid_held = use(KEYS[1], KEYS[2], KEYS[3], now_ms)
local daily, monthly, amount = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local free = math.min(amount, free_left(daily, monthly, day, month))
local balance, sub = wallet(KEYS[4], now_ms)
local paid = math.max(math.min(amount - free, balance + sub - paid_held), 0)
if free + paid <= 0 then
  if daily > 0 and day >= daily then return {0, 'day'} end
  return {0, 'month'}
end
redis.call('HSET', KEYS[3], ARGV[4], (free + paid) .. ':' .. (now_ms + tonumber(ARGV[6])) .. ':' .. paid)
redis.call('PEXPIRE', KEYS[3], ARGV[6])
return {free + paid, '', paid}
"""
)

# KEYS: day usage, month usage, holds, wallet. ARGV: hold id, prompt, completion, daily,
# monthly, now (ms), day ttl (s), month ttl (s). Settles a turn: drops its hold, counts its
# usage in the day and the month, and debits what went beyond the free quotas (the other
# turns' holds included) from the paid tokens: a live subscription's allowance first (it
# expires), then the packs' balance, never below zero. Returns the paid tokens debited.
_SETTLE = (
    _USE
    + """
redis.call('HDEL', KEYS[3], ARGV[1])
local now_ms = tonumber(ARGV[6])
local day, month = use(KEYS[1], KEYS[2], KEYS[3], now_ms)
local prompt, completion = tonumber(ARGV[2]), tonumber(ARGV[3])
local over = prompt + completion - free_left(tonumber(ARGV[4]), tonumber(ARGV[5]), day, month)
local paid = 0
if over > 0 then
  local balance, sub = wallet(KEYS[4], now_ms)
  local from_sub = math.min(over, sub)
  local from_balance = math.min(over - from_sub, balance)
  paid = from_sub + from_balance
  if from_sub > 0 then redis.call('HINCRBY', KEYS[4], 'sub', -from_sub) end
  if from_balance > 0 then redis.call('HINCRBY', KEYS[4], 'balance', -from_balance) end
  if paid > 0 then redis.call('HINCRBY', KEYS[4], 'used', paid) end
end
for i, ttl in ipairs({ARGV[7], ARGV[8]}) do
  redis.call('HINCRBY', KEYS[i], 'prompt', prompt)
  redis.call('HINCRBY', KEYS[i], 'completion', completion)
  redis.call('HINCRBY', KEYS[i], 'requests', 1)
  if paid > 0 then redis.call('HINCRBY', KEYS[i], 'paid', paid) end
  redis.call('EXPIRE', KEYS[i], ttl)
end
return paid
"""
)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisQuota:
    """The scripts behind `AccessStore.attempt` and `UsageStore.reserve`/`release`."""

    def __init__(self, redis: RedisClient, keys: RedisKeys) -> None:
        self._redis = redis
        self._keys = keys
        self._attempt = redis.register_script(_ATTEMPT)
        self._reserve = redis.register_script(_RESERVE)
        self._settle = redis.register_script(_SETTLE)

    def _usage_keys(self, owner_id: int, at: datetime) -> list[str]:
        day, month, _ = usage_periods(at)
        return [self._keys.usage(("user", owner_id), p) for p in (day, month)]

    async def attempt(self, attempt: Attempt) -> AttemptResult:
        owner = attempt.actor_id
        keys = [
            self._keys.flood(owner),
            *self._usage_keys(owner, attempt.at),
            self._keys.holds(owner),
            self._keys.told(owner, attempt.chat_id),
            self._keys.wallet(owner),
        ]
        limits = attempt.limits or QuotaLimits(0, 0)
        args: list[str | int] = [
            f"{attempt.now:.6f}",
            max(1, math.ceil(attempt.window * 1000)),
            attempt.flood_limit,
            f"{attempt.now:.6f}-{secrets.token_hex(3)}",
            limits.daily,
            limits.monthly,
            attempt.refusal,
            int(attempt.now * 1000),
        ]
        count, oldest, day, month, refusal, tell = await guard(
            lambda: self._attempt(keys=keys, args=args)
        )
        return AttemptResult(
            int(count), float(_text(oldest)), QuotaUse(int(day), int(month)), _text(refusal),
            bool(tell),
        )  # fmt: skip

    async def reserve(self, owner_id: int, limits: QuotaLimits, amount: int, at: datetime) -> Hold:
        hold_id = secrets.token_hex(6)
        keys = [
            *self._usage_keys(owner_id, at),
            self._keys.holds(owner_id),
            self._keys.wallet(owner_id),
        ]
        now_ms = int(time.time() * 1000)  # holds expire by the wall clock, as in attempt()
        args: list[str | int] = [
            limits.daily,
            limits.monthly,
            max(amount, 1),
            hold_id,
            now_ms,
            HOLD_TTL_MS,
        ]
        held, exhausted, *paid = await guard(lambda: self._reserve(keys=keys, args=args))
        period = _text(exhausted)
        return Hold(owner_id, hold_id, int(held), "day" if period == "day" else
                    "month" if period == "month" else "", limits,
                    int(paid[0]) if paid else 0)  # fmt: skip

    async def settle(self, hold: Hold, usage: Usage, at: datetime, ttls: tuple[int, int]) -> int:
        """Count a turn's usage in the owner's day and month and settle its hold, debiting what
        went beyond the free quotas from the paid tokens (atomically); the paid tokens spent."""
        owner = hold.owner_id
        keys = [*self._usage_keys(owner, at), self._keys.holds(owner), self._keys.wallet(owner)]
        limits = hold.limits or QuotaLimits(0, 0)
        args: list[str | int] = [
            hold.hold_id, usage.prompt_tokens, usage.completion_tokens, limits.daily,
            limits.monthly, int(time.time() * 1000), *ttls,
        ]  # fmt: skip
        return int(await guard(lambda: self._settle(keys=keys, args=args)))

    async def release(self, hold: Hold) -> None:
        await guard(lambda: self._redis.hdel(self._keys.holds(hold.owner_id), hold.hold_id))
