"""The quota of a turn with tool rounds: re-checked against the turn's hold before each round."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.quota import QuotaLimits
from bot.core.turn_ledger import RoundHolds, reserve
from tests.fakes import MemoryUsage

NOW = datetime(2026, 12, 1, tzinfo=UTC)


async def test_a_round_within_the_hold_holds_nothing_more() -> None:
    usage = MemoryUsage()
    limits = QuotaLimits(daily=10_000, monthly=0)
    first = await reserve(usage, 1, limits, 3000, NOW)
    holds = RoundHolds(usage, 1, limits, first, max_tokens=1000, at=lambda: NOW)
    assert await holds.allows(spent=500, next_prompt=1000)
    assert holds.extra == []


async def test_a_round_past_the_hold_holds_the_difference_and_gives_it_back() -> None:
    usage = MemoryUsage()
    limits = QuotaLimits(daily=10_000, monthly=0)
    first = await reserve(usage, 1, limits, 3000, NOW)
    holds = RoundHolds(usage, 1, limits, first, max_tokens=1000, at=lambda: NOW)
    assert await holds.allows(spent=2500, next_prompt=2000)
    assert [hold.amount for hold in holds.extra] == [2500]
    assert usage.use(1).day == 5500
    await holds.release()
    assert usage.use(1).day == 3000


async def test_a_partial_hold_does_when_the_next_prompt_fits() -> None:
    usage = MemoryUsage()
    limits = QuotaLimits(daily=5000, monthly=0)
    first = await reserve(usage, 1, limits, 3000, NOW)
    holds = RoundHolds(usage, 1, limits, first, max_tokens=1000, at=lambda: NOW)
    assert await holds.allows(spent=2500, next_prompt=2000)  # 4500 of 5000: its answer is cut
    assert [hold.amount for hold in holds.extra] == [2000]
    assert not await holds.allows(spent=4600, next_prompt=600)


async def test_no_quota_left_ends_the_rounds() -> None:
    usage = MemoryUsage()
    limits = QuotaLimits(daily=3000, monthly=0)
    first = await reserve(usage, 1, limits, 3000, NOW)
    holds = RoundHolds(usage, 1, limits, first, max_tokens=1000, at=lambda: NOW)
    assert not await holds.allows(spent=2500, next_prompt=2000)
