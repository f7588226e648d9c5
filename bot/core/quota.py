"""Token quotas held before a turn and settled after it, so concurrent turns cannot overspend.

A turn reserves its worst case (the prompt estimate plus max_tokens, clamped to what is left of
the day's and the month's quota) in one atomic step before the upstream call; the settlement
counts the real usage and releases the hold, also when the turn failed or was stopped. A hold
that is never settled (a crashed process) expires by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from bot.core.errors import BotError

if TYPE_CHECKING:
    from bot.core.ports import UsageStore


@dataclass(frozen=True, slots=True)
class QuotaLimits:
    """The token quotas that apply to one actor (0: none for that period)."""

    daily: int
    monthly: int


@dataclass(frozen=True, slots=True)
class QuotaUse:
    """Tokens used in the current day and month, counting live holds."""

    day: int
    month: int


@dataclass(frozen=True, slots=True)
class Hold:
    """Tokens reserved for one turn of one actor; `amount` 0 with the period whose quota is
    used up when nothing was left."""

    owner_id: int
    hold_id: str
    amount: int
    exhausted: Literal["", "day", "month"] = ""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt at a turn (or unsupported content), counted before the gate decides."""

    actor_id: int
    chat_id: int
    at: datetime  # names the day and month of the quotas
    now: float  # epoch seconds
    window: float  # flood window, also how long a told refusal stays untold
    flood_limit: int  # 0: no flood control
    limits: QuotaLimits | None  # None: no quota to check
    refusal: str = ""  # text key of a refusal already decided (access, unsupported content)


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """The attempts in the window (this one included) and the oldest's time, the quota use,
    the refusal decided (text key, "" for none) and whether it is to be told."""

    count: int
    oldest: float
    use: QuotaUse
    refusal: str
    tell: bool


class QuotaExhausted(BotError):
    """Nothing was left to reserve (concurrent turns took the rest after the gate let it in)."""

    def __init__(self, period: str, limit: int, resets_at: datetime) -> None:
        super().__init__(f"{period} quota of {limit} tokens used up")
        self.text_key = "quota_day" if period == "day" else "quota_month"
        self.values: dict[str, object] = {
            "limit": limit,
            "reset": f"{resets_at:%Y-%m-%d %H:%M} UTC",
        }


def next_day(at: datetime) -> datetime:
    """When the day of `at` ends (UTC): the daily quota renews."""
    return datetime(at.year, at.month, at.day, tzinfo=UTC) + timedelta(days=1)


def next_month(at: datetime) -> datetime:
    """When the month of `at` ends (UTC): the monthly quota renews."""
    year, month = (at.year + 1, 1) if at.month == 12 else (at.year, at.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


async def reserve(
    usage: UsageStore, owner_id: int, limits: QuotaLimits, amount: int, at: datetime
) -> Hold:
    """Hold up to `amount` tokens of the owner's quotas; QuotaExhausted when none are left."""
    hold = await usage.reserve(owner_id, limits, amount, at)
    if hold.exhausted:
        day = hold.exhausted == "day"
        limit = limits.daily if day else limits.monthly
        raise QuotaExhausted(hold.exhausted, limit, next_day(at) if day else next_month(at))
    return hold


class RoundHolds:
    """The quota of a turn with tool rounds: re-checked against the turn's hold before each
    further round. The first hold covers the first round's worst case; when the tokens spent plus
    the next round's worst case exceed what is held, the difference is held too (that hold is
    given back at the end: the turn's real usage is counted once, settling the first hold).
    When the quota cannot hold the tokens spent plus the next round's prompt, the rounds end:
    the model's answer so far is the reply."""

    def __init__(
        self,
        usage: UsageStore,
        owner_id: int,
        limits: QuotaLimits,
        first: Hold,
        max_tokens: int,
        at: Callable[[], datetime],
    ) -> None:
        self._usage = usage
        self._owner = owner_id
        self._limits = limits
        self._held = first.amount
        self._max_tokens = max_tokens
        self._at = at
        self.extra: list[Hold] = []

    async def allows(self, spent: int, next_prompt: int) -> bool:
        """Whether the next round may go, holding more of the quota when needed."""
        need = spent + next_prompt + self._max_tokens - self._held
        if need <= 0:
            return True
        try:
            hold = await reserve(self._usage, self._owner, self._limits, need, self._at())
        except QuotaExhausted:
            return False
        self.extra.append(hold)
        self._held += hold.amount
        # Like a first round, the next one may go on a partial hold (its answer is what gets
        # cut), but the tokens spent and its prompt must be within the quota.
        return self._held >= spent + next_prompt

    async def release(self) -> None:
        """Give back the extra holds (after the turn's usage is counted)."""
        for hold in self.extra:
            await self._usage.release(hold)
        self.extra.clear()
