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
from tests.doubles.fake_telegram import StoredMessage
from tests.e2e.conftest import FAST, USER, Env, EnvFactory
from tests.e2e.test_replicas import shared_redis

__all__ = ["shared_redis"]  # the fixture: a real Redis and a key prefix of its own

# Round trips of one private turn with flood control and a daily quota on, the scripts loaded:
# the access record; the flood and quota check (one script); the chat's settings (the models, its
# own system prompt and the conversation's mode, one pipeline); the history; the quota hold; the
# history append; the usage; the answer's variants with its question (one script: Regenerate and
# edit to redo). Before conversation control (issue 21) it was 8 too; conversation control cost 12
# (the mode, the answered questions read and written, and the variants each a round trip).
EXPECTED_PRIVATE_TURN = 8
# A group turn is the same 8 (the group's usage is counted in the same pipeline).
EXPECTED_GROUP_TURN = 8
# A 🔄 press: the last answer read at the press and again in the chat's turn (2), then a turn
# (the access record, flood and quota, settings, history, hold, append, usage, variants) whose
# append drops the old answer in the same transaction. It cost 13 with conversation control's
# first cut (the old answer was dropped in a round trip of its own).
EXPECTED_REGENERATE = 10
GROUP = -100900


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


async def test_a_group_turn_and_a_regenerate_cost_no_more(
    make_env: EnvFactory, round_trips: list[int]
) -> None:
    async with make_env(**FAST, daily_token_quota=100_000) as env:
        for count in (1, 2):  # the first one loads the scripts
            before = round_trips[0]
            await env.telegram.send_text(
                GROUP, f"@fake_llm_bot question {count}", user_id=USER, first_name="A",
                chat_type="supergroup", chat_title="T",
            )  # fmt: skip
            await env.wait_replies(count, GROUP)
        assert round_trips[0] - before == EXPECTED_GROUP_TURN
        answer = env.visible(GROUP)[-1]
        before = round_trips[0]
        await env.telegram.press_button(GROUP, answer.message_id, _regenerate(answer), USER)
        await env.telegram.wait_for(
            lambda: env.gonka.completion_calls == 3 and env.app.running.active == 0, 10
        )
        await asyncio.sleep(0.1)
        assert env.visible_texts(GROUP)[-1] == "Echo: [A]: question 2"
        assert round_trips[0] - before == EXPECTED_REGENERATE


def _regenerate(message: StoredMessage) -> str:
    rows: list[list[dict[str, Any]]] = (message.reply_markup or {}).get("inline_keyboard", [])
    return next(str(b["callback_data"]) for row in rows for b in row if b["text"] == "🔄")


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
