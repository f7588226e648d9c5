"""Recent upstream latency (time to first token) and error counts, kept in memory."""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable
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
    """The last `size` times to first token, and error counts by kind since start.

    The one place both are measured: `on_first_token` and `on_error` pass each sample on (to
    the Prometheus metrics)."""

    def __init__(
        self,
        size: int = 200,
        on_first_token: Callable[[float, str], None] | None = None,
        on_error: Callable[[str, str], None] | None = None,
    ) -> None:
        self._ttft: deque[float] = deque(maxlen=size)
        self._errors: Counter[str] = Counter()
        self._on_first_token = on_first_token
        self._on_error = on_error

    def first_token(self, seconds: float, model: str = "") -> None:
        """Time from the request going upstream to `model`'s first streamed event."""
        self._ttft.append(seconds)
        if self._on_first_token is not None:
            self._on_first_token(seconds, model)

    def error(self, kind: str, model: str = "") -> None:
        """An upstream failure of this kind."""
        self._errors[kind] += 1
        if self._on_error is not None:
            self._on_error(kind, model)

    def snapshot(self) -> MonitorSnapshot:
        values = sorted(self._ttft)
        if not values:
            return MonitorSnapshot(0, None, None, dict(self._errors))
        return MonitorSnapshot(
            len(values), percentile(values, 0.5), percentile(values, 0.95), dict(self._errors)
        )
