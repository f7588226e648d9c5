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
from bot.core.quota import Attempt, AttemptResult, Hold, QuotaLimits, QuotaUse

# A turn never holds tokens longer than this: a crashed process's holds expire by themselves.
HOLD_TTL_MS = 15 * 60 * 1000

# Sum of the live holds (HOLDS: field -> "amount:expires_ms"), dropping expired ones; then the
# day's and the month's use including them.
_USE = """
local function use(day_key, month_key, holds_key, now_ms)
  local held = 0
  local holds = redis.call('HGETALL', holds_key)
  for i = 1, #holds, 2 do
    local amount, expires = string.match(holds[i + 1], '(%d+):(%d+)')
    if tonumber(expires) <= now_ms then
      redis.call('HDEL', holds_key, holds[i])
    else
      held = held + tonumber(amount)
    end
  end
  local d = redis.call('HMGET', day_key, 'prompt', 'completion')
  local m = redis.call('HMGET', month_key, 'prompt', 'completion')
  return (tonumber(d[1]) or 0) + (tonumber(d[2]) or 0) + held,
         (tonumber(m[1]) or 0) + (tonumber(m[2]) or 0) + held
end
"""

# KEYS: flood, day usage, month usage, holds, told. ARGV: now (s), window (ms), flood limit,
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
local day, month = 0, 0
if daily > 0 or monthly > 0 then day, month = use(KEYS[2], KEYS[3], KEYS[4], now_ms) end
local refusal = ARGV[7]
if refusal == '' and limit > 0 and count > limit then refusal = 'slow_down' end
if refusal == '' and daily > 0 and day >= daily then refusal = 'quota_day' end
if refusal == '' and monthly > 0 and month >= monthly then refusal = 'quota_month' end
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

# KEYS: day usage, month usage, holds. ARGV: daily, monthly, amount, hold id, now (ms), hold ttl
# (ms). Returns {tokens held, "" or the period used up}.
_RESERVE = (
    _USE
    + """
local now_ms = tonumber(ARGV[5])
local day, month = use(KEYS[1], KEYS[2], KEYS[3], now_ms)
local daily, monthly, held = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if daily > 0 then
  if day >= daily then return {0, 'day'} end
  held = math.min(held, daily - day)
end
if monthly > 0 then
  if month >= monthly then return {0, 'month'} end
  held = math.min(held, monthly - month)
end
redis.call('HSET', KEYS[3], ARGV[4], held .. ':' .. (now_ms + tonumber(ARGV[6])))
redis.call('PEXPIRE', KEYS[3], ARGV[6])
return {held, ''}
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
        keys = [*self._usage_keys(owner_id, at), self._keys.holds(owner_id)]
        now_ms = int(time.time() * 1000)  # holds expire by the wall clock, as in attempt()
        args: list[str | int] = [
            limits.daily,
            limits.monthly,
            max(amount, 1),
            hold_id,
            now_ms,
            HOLD_TTL_MS,
        ]
        held, exhausted = await guard(lambda: self._reserve(keys=keys, args=args))
        period = _text(exhausted)
        return Hold(owner_id, hold_id, int(held), "day" if period == "day" else
                    "month" if period == "month" else "")  # fmt: skip

    async def release(self, hold: Hold) -> None:
        await guard(lambda: self._redis.hdel(self._keys.holds(hold.owner_id), hold.hold_id))
