"""Token quotas held before a turn and settled after it, so concurrent turns cannot overspend.

These are the quota's data and its refusal; the holds themselves are bot.core.turn_ledger's.
A turn reserves its worst case (the prompt estimate plus max_tokens, clamped to what is left of
the day's and the month's quota) in one atomic step before the upstream call; the settlement
counts the real usage and releases the hold, also when the turn failed or was stopped. A hold
that is never settled (a crashed process) expires by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from bot.core.errors import BotError


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
    """Tokens reserved for one turn of one actor (of the free quotas first, then of the paid
    tokens); `amount` 0 with the period whose quota is used up when nothing was left."""

    owner_id: int
    hold_id: str
    amount: int
    exhausted: Literal["", "day", "month"] = ""
    limits: QuotaLimits | None = None  # what it was held against (settled against them)
    paid: int = 0  # of `amount`, the paid tokens held (0: settled with the usage, no script)


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
