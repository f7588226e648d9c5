"""Redis round trips of one turn, counted: the gate, quotas and TTLs add none."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from redis.asyncio.connection import AbstractConnection

from tests.e2e.conftest import FAST, USER, EnvFactory

# Round trips of one private turn with flood control and a daily quota on, the scripts loaded.
# Before the gate and quota work (issue 14): 8 (access record, flood, quota totals, history,
# chat system prompt, chosen model, history append, usage).
EXPECTED_PRIVATE_TURN = 8


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
