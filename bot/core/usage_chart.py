"""What a usage picture shows, as plain data: tokens per day for the last days, stacked by model,
with the cost in the panel's title. The picture itself is drawn in a worker
(bot/adapters/usage_chart.py); this module decides the series and never imports a plotting
library."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, Protocol

from bot.core.models import PeriodStats

DAYS = 30
MAX_MODELS = 5  # more models than this: the smallest are summed as "other"


@dataclass(frozen=True, slots=True)
class Panel:
    """One chart: a title, the day labels, and per model its tokens for each day."""

    title: str
    labels: tuple[str, ...]
    series: tuple[tuple[str, tuple[int, ...]], ...]
    notes: tuple[str, ...] = ()  # lines under the chart (the top users)

    @property
    def totals(self) -> tuple[int, ...]:
        """Tokens per day, all models together."""
        return tuple(sum(day) for day in zip(*(v for _, v in self.series), strict=True)) or tuple(
            0 for _ in self.labels
        )


@dataclass(frozen=True, slots=True)
class Chart:
    """A picture: one or more panels (a group's /usage shows the user's and the group's)."""

    panels: tuple[Panel, ...]


def last_days(today: date, days: int = DAYS) -> list[date]:
    """The `days` days ending with `today`, oldest first."""
    return [today - timedelta(days=days - 1 - i) for i in range(days)]


def stacked(
    by_day: Sequence[Mapping[str, int]], other: str, max_models: int = MAX_MODELS
) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """Per-day {model: tokens} as one series per model (largest first); past `max_models`
    the smaller models are summed into one series named `other`."""
    totals: dict[str, int] = {}
    for day in by_day:
        for model, tokens in day.items():
            totals[model] = totals.get(model, 0) + tokens
    ranked = [m for m, n in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])) if n > 0]
    kept = ranked if len(ranked) <= max_models else ranked[: max_models - 1]
    series = [(m, tuple(day.get(m, 0) for day in by_day)) for m in kept]
    rest = [m for m in ranked if m not in kept]
    if rest:
        series.append((other, tuple(sum(day.get(m, 0) for m in rest) for day in by_day)))
    return tuple(series)


def short_model(name: str) -> str:
    """A model's name as a legend shows it: without the organisation ("Qwen/Qwen3-..." ->
    "Qwen3-..."), at most 28 characters."""
    short = name.rsplit("/", 1)[-1]
    return short if len(short) <= 28 else short[:27] + "…"


Owner = tuple[Literal["user", "chat"], int]


class DailyUsage(Protocol):
    """The daily series the usage store keeps (per user, chat and the bot; DAY_TTL days)."""

    async def daily(self, owner: Owner | None, days: Sequence[date]) -> list[dict[str, int]]:
        """Tokens per model on each day (owner None: the bot's)."""

    async def stats(self, at: datetime, top: int) -> list[PeriodStats]: ...


class PictureCache:
    """Pictures by key for `ttl` seconds: a user who repeats /usage gets the same picture."""

    def __init__(self, clock: Callable[[], float], ttl: float = 60.0, size: int = 1000) -> None:
        self._clock = clock
        self._ttl = ttl
        self._size = size
        self._kept: dict[object, tuple[float, bytes]] = {}

    def get(self, key: object) -> bytes | None:
        found = self._kept.get(key)
        if found is None or self._clock() - found[0] >= self._ttl:
            return None
        return found[1]

    def put(self, key: object, picture: bytes) -> None:
        now = self._clock()
        self._kept.pop(key, None)  # put again: the newest now
        # Oldest first: drop the expired, then the oldest while full (no sweep of the whole).
        while self._kept and (
            len(self._kept) >= self._size or now - next(iter(self._kept.values()))[0] >= self._ttl
        ):
            del self._kept[next(iter(self._kept))]
        self._kept[key] = (now, picture)
