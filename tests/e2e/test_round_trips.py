"""Redis round trips of one turn, counted: the gate, quotas and TTLs add none."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection

from bot.telegram.runtime.chat_order import ChatLocks
from tests.conftest import REAL_REDIS_URL
from tests.e2e.conftest import FAST, USER, Env, EnvFactory
from tests.e2e.test_replicas import shared_redis

__all__ = ["shared_redis"]  # the fixture: a real Redis and a key prefix of its own

# Round trips of one private turn with flood control and a daily quota on, the scripts loaded.
# Before the gate and quota work (issue 14): 8 (access record, flood, quota totals, history,
# chat system prompt, chosen model, history append, usage). Conversation control (issue 21) adds
# 4, each a state of its own: the chat's mode, the answered questions read and written (edit to
# redo), the last answer's variants (Regenerate). Next: one read and one write for the four.
EXPECTED_PRIVATE_TURN = 12


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    sent = [0]
    original = AbstractConnection.send_packed_command

    async def counting(self: AbstractConnection, *args: Any, **kwargs: Any) -> None:
        sent[0] += 1
        await original(self, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    yield sent


async def test_a_private_turn_costs_as_few_round_trips_as_before(
    make_env: EnvFactory, round_trips: list[int]
) -> None:
    async with make_env(**FAST, daily_token_quota=100_000) as env:
        await env.telegram.send_text(USER, "warm up", user_id=USER)
        await env.wait_replies(1)
        before = round_trips[0]
        await env.telegram.send_text(USER, "count me", user_id=USER)
        await env.wait_replies(2)
        assert round_trips[0] - before == EXPECTED_PRIVATE_TURN


BURST = 300  # issue 14: "a burst of 300 users, one message each, in one process"


async def burst_is_answered(env: Env, caplog: pytest.LogCaptureFixture) -> float:
    """Send one message from each of BURST users at once; the seconds until all are answered."""
    users = [50_000 + n for n in range(BURST)]
    started = time.monotonic()
    await asyncio.gather(*(env.telegram.send_text(u, f"hi {u}", user_id=u) for u in users))
    await env.telegram.wait_for(
        lambda: all(env.visible(u) for u in users) and env.app.running.active == 0, 90
    )
    took = time.monotonic() - started
    assert all(env.visible_texts(u) == [f"Echo: hi {u}"] for u in users)
    assert env.telegram.count_429 == 0
    assert "Too many connections" not in caplog.text
    return took


async def test_a_burst_of_300_users_on_a_redis_server_is_answered(
    make_env: EnvFactory, shared_redis: tuple[Redis, str], caplog: pytest.LogCaptureFixture
) -> None:
    """More users at once than Redis connections: they wait for one, none is told that storage
    is down (redis-py's default pool failed with "Too many connections"), no lock stays."""
    redis, prefix = shared_redis
    async with make_env(
        **FAST, redis_url=REAL_REDIS_URL, redis_key_prefix=prefix, use_drafts=False
    ) as env:
        took = await burst_is_answered(env, caplog)
    locks = [key async for key in redis.scan_iter(match=f"{prefix}:*:lock", count=500)]
    assert locks == []
    print(f"burst of {BURST} on Redis answered in {took:.1f}s")


async def test_a_burst_of_300_users_on_the_embedded_store_is_answered(
    make_env: EnvFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with make_env(**FAST, data_dir=tmp_path, use_drafts=False) as env:
        took = await burst_is_answered(env, caplog)
        assert isinstance(env.app.order, ChatLocks) and env.app.order.busy_chats() == 0
    print(f"burst of {BURST} on the embedded store answered in {took:.1f}s")
