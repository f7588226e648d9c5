"""The admin-alert ledger shared by replicas (fakeredis, and the real server when reachable)."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from bot.adapters.redis_alerts import RedisAlertLedger
from bot.adapters.redis_keys import RedisKeys
from bot.telegram.admin_alerts import MemoryLedger


async def test_one_replica_sends_the_others_learn_whether_it_was_delivered(
    redis: Redis, key_prefix: str
) -> None:
    one = RedisAlertLedger(redis, RedisKeys(key_prefix))
    two = RedisAlertLedger(redis, RedisKeys(key_prefix))
    assert await one.claim("auth", hold=60) == "send"
    assert await two.claim("auth", hold=60) == "untold"  # being sent: not told yet
    assert await two.claim("balance", hold=60) == "send"  # another kind is another alert
    await one.settle("auth", delivered=True, keep=3600)
    assert await two.claim("auth", hold=60) == "told"
    await two.settle("balance", delivered=False, keep=0.05)
    assert await one.claim("balance", hold=60) == "untold"
    await asyncio.sleep(0.1)
    assert await one.claim("balance", hold=60) == "send"  # the pause after a failure is over
    assert await redis.ttl(RedisKeys(key_prefix).admin_alert("auth")) > 3500


async def test_memory_ledger_has_the_same_rules() -> None:
    now = [0.0]
    ledger = MemoryLedger(clock=lambda: now[0])
    assert await ledger.claim("auth", hold=60) == "send"
    assert await ledger.claim("auth", hold=60) == "untold"
    await ledger.settle("auth", delivered=True, keep=3600)
    now[0] = 3599
    assert await ledger.claim("auth", hold=60) == "told"
    now[0] = 3601
    assert await ledger.claim("auth", hold=60) == "send"
