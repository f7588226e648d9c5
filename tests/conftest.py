"""Shared fixtures: Redis backends (fakeredis always, the real server when reachable)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

from bot import lazy_openai
from bot.lazy_aiogram import install, warm

# Before any test module imports aiogram or openai: the suite runs on the types `python -m bot`
# uses.
install()
lazy_openai.install()
warm()  # as the bot does at start: a first answer does not build the schemas it uses

import fakeredis  # noqa: E402
import pytest  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

from bot.workers.pool import WorkerLimits, WorkerPool  # noqa: E402

# The fake Telegram server, a Bot talking to it, and a hand-moved clock.
pytest_plugins = ["tests.doubles.telegram_fixtures"]

REAL_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


async def _real_redis() -> Redis | None:
    client = Redis.from_url(REAL_REDIS_URL, socket_connect_timeout=0.5)
    try:
        await client.ping()
    except Exception:
        await client.aclose()
        return None
    return client


@pytest.fixture
def key_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture(params=["fakeredis", "redis-server"])
async def redis(request: pytest.FixtureRequest, key_prefix: str) -> AsyncIterator[Redis]:
    """A Redis client; the real server's keys written under `key_prefix` are deleted after."""
    if request.param == "fakeredis":
        client: Redis = fakeredis.aioredis.FakeRedis()
        yield client
        await client.aclose()
        return
    real = await _real_redis()
    if real is None:
        pytest.skip(f"no Redis server at {REAL_REDIS_URL}: storage checked on fakeredis only")
    yield real
    keys = [key async for key in real.scan_iter(match=f"{key_prefix}:*", count=500)]
    if keys:
        await real.delete(*keys)
    await real.aclose()


@pytest.fixture
async def jobs() -> AsyncIterator[WorkerPool]:
    """The worker pool the bot builds (its processes start on the first job), closed after."""
    pool = WorkerPool(WorkerLimits())
    yield pool
    await pool.aclose()
