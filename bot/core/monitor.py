"""What the bot measures, kept in memory. One path: every part records here (updates, replies,
tokens, errors, durations) and bot.metrics renders it when /metrics is read; /stats reads the
recent times to first token and the upstream errors."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from typing import Literal

CounterName = Literal["updates", "replies", "tokens", "upstream_errors", "turn_errors"]
DurationName = Literal["upstream_first_token_seconds", "upstream_answer_seconds"]
NO_MODEL = "unknown"
BOUNDS: dict[DurationName, tuple[float, ...]] = {
    # A warm model answers in 0.2-1 s, a cold or busy one in several seconds; the read timeout
    # ends it at 120 s.
    "upstream_first_token_seconds": (
        0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 20.0, 30.0, 60.0,
    ),
    # The whole answer: seconds for a short one, minutes for MAX_TOKENS at a slow model.
    "upstream_answer_seconds": (
        0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 90.0, 120.0, 180.0, 300.0,
    ),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class MonitorSnapshot:
    samples: int
    ttft_p50: float | None  # seconds
    ttft_p95: float | None
    errors: dict[str, int]


@dataclass(slots=True)
class Durations:
    """A histogram: how many durations fell at or under each bound (not cumulative; the last
    count is over every bound), and their sum."""

    bounds: tuple[float, ...]
    counts: list[int] = field(init=False)
    total: float = 0.0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.bounds) + 1)

    def add(self, seconds: float) -> None:
        self.counts[bisect_left(self.bounds, seconds)] += 1
        self.total += seconds


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of sorted `values` (share in 0..1)."""
    index = max(0, min(len(values) - 1, math.ceil(share * len(values)) - 1))
    return values[index]


class Monitor:
    """Counts by label values and durations by model since start, and the last `size` times to
    first token with the upstream errors by kind (for /stats)."""

    def __init__(self, size: int = 200) -> None:
        self._ttft: deque[float] = deque(maxlen=size)
        self._errors: Counter[str] = Counter()
        self.counts: defaultdict[CounterName, defaultdict[tuple[str, ...], float]] = defaultdict(
            lambda: defaultdict(float)
        )
        self.durations: defaultdict[DurationName, dict[str, Durations]] = defaultdict(dict)

    def count(self, name: CounterName, *labels: str, amount: float = 1.0) -> None:
        """Add `amount` to the counter `name` at these label values (a model's: "" is unknown)."""
        self.counts[name][labels] += amount

    def observe(self, name: DurationName, seconds: float, model: str) -> None:
        by_model = self.durations[name]
        model = model or NO_MODEL
        if model not in by_model:
            by_model[model] = Durations(BOUNDS[name])
        by_model[model].add(seconds)

    def totals(self, name: CounterName) -> dict[str, float]:
        """The counter's totals per value of its first label."""
        totals: dict[str, float] = {}
        for labels, value in self.counts[name].items():
            totals[labels[0]] = totals.get(labels[0], 0.0) + value
        return totals

    def first_token(self, seconds: float, model: str = "") -> None:
        """Time from the request going upstream to `model`'s first streamed event."""
        self._ttft.append(seconds)
        self.observe("upstream_first_token_seconds", seconds, model)

    def error(self, kind: str, model: str = "") -> None:
        """An upstream failure of this kind."""
        self._errors[kind] += 1
        self.count("upstream_errors", kind, model or NO_MODEL)

    def snapshot(self) -> MonitorSnapshot:
        values = sorted(self._ttft)
        if not values:
            return MonitorSnapshot(0, None, None, dict(self._errors))
        return MonitorSnapshot(
            len(values), percentile(values, 0.5), percentile(values, 0.95), dict(self._errors)
        )
