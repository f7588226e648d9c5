"""Recent upstream latency (time to first token) and error counts, kept in memory."""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MonitorSnapshot:
    samples: int
    ttft_p50: float | None  # seconds
    ttft_p95: float | None
    errors: dict[str, int]


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of sorted `values` (share in 0..1)."""
    index = max(0, min(len(values) - 1, math.ceil(share * len(values)) - 1))
    return values[index]


class UpstreamMonitor:
    """The last `size` times to first token, and error counts by kind since start."""

    def __init__(self, size: int = 200) -> None:
        self._ttft: deque[float] = deque(maxlen=size)
        self._errors: Counter[str] = Counter()

    def first_token(self, seconds: float) -> None:
        self._ttft.append(seconds)

    def error(self, kind: str) -> None:
        self._errors[kind] += 1

    def snapshot(self) -> MonitorSnapshot:
        values = sorted(self._ttft)
        if not values:
            return MonitorSnapshot(0, None, None, dict(self._errors))
        return MonitorSnapshot(
            len(values), percentile(values, 0.5), percentile(values, 0.95), dict(self._errors)
        )
