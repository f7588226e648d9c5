"""Inline mode's pending questions in the store: any replica reads them, a choice is claimed
once, they expire, and a restart of the embedded store keeps them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from redis.asyncio import Redis

from bot.adapters.redis_inline import RedisInlinePending
from bot.adapters.redis_keys import RedisKeys
from bot.app import build_store
from bot.config import Settings
from bot.core.inline import PENDING_TTL, PendingQuestion
from bot.core.quota import QuotaLimits

QUESTION = PendingQuestion(7, "how tall is Elbrus? ☃", "ru", QuotaLimits(1000, 0))


async def test_a_pending_question_is_read_by_another_replica(redis: Redis, key_prefix: str) -> None:
    here = RedisInlinePending(redis, RedisKeys(key_prefix))
    there = RedisInlinePending(redis, RedisKeys(key_prefix))
    await here.put("r1", QUESTION)
    assert await there.get("r1") == QUESTION
    assert await there.get("unknown") is None
    ttl = await redis.ttl(f"{key_prefix}:{{inline}}:q:r1")
    assert 0 < ttl <= PENDING_TTL


async def test_one_choice_is_claimed_once_of_many_at_once(redis: Redis, key_prefix: str) -> None:
    replicas = [RedisInlinePending(redis, RedisKeys(key_prefix)) for _ in range(5)]
    claims = await asyncio.gather(*(r.claim("r2", 0) for r in replicas for _ in range(4)))
    assert claims.count(True) == 1
    assert await replicas[0].claim("r2", 1)  # 🔄: the next attempt is a new claim


async def test_a_long_answers_full_text_is_kept(redis: Redis, key_prefix: str) -> None:
    pending = RedisInlinePending(redis, RedisKeys(key_prefix))
    await pending.put_full("r3", "ёлка " * 2000)
    assert await pending.get_full("r3") == "ёлка " * 2000
    assert await pending.get_full("r4") is None


async def test_a_restart_keeps_a_pending_question(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, bot_token="1:x", gonka_api_key="k", data_dir=tmp_path)  # type: ignore[call-arg,arg-type]
    redis, store = build_store(settings)
    assert store is not None
    await RedisInlinePending(redis, RedisKeys("gonka")).put("r5", QUESTION)
    await store.close()
    redis, store = build_store(settings)
    assert store is not None
    assert await RedisInlinePending(redis, RedisKeys("gonka")).get("r5") == QUESTION
    await store.close()
