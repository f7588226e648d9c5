"""Metrics in the Prometheus text format, kept in an object the composition root builds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    body = ",".join(f'{k}="{_escape(v)}"' for k, v in pairs)
    return "{" + body + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass(slots=True)
class Counter:
    name: str
    help: str
    label: str | None = None
    values: dict[str, float] = field(default_factory=dict)

    def inc(self, label: str = "", amount: float = 1.0) -> None:
        self.values[label] = self.values.get(label, 0.0) + amount

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        for label, value in sorted(self.values.items()):
            pairs = ((self.label, label),) if self.label else ()
            lines.append(f"{self.name}{_labels(pairs)} {value:g}")
        if not self.values and not self.label:
            lines.append(f"{self.name} 0")
        return lines


@dataclass(slots=True)
class Histogram:
    name: str
    help: str
    buckets: tuple[float, ...] = LATENCY_BUCKETS
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    observed: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * len(self.buckets)

    def observe(self, value: float) -> None:
        self.total += value
        self.observed += 1
        for index, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[index] += 1

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        for bound, count in zip(self.buckets, self.counts, strict=True):
            lines.append(f'{self.name}_bucket{{le="{bound:g}"}} {count}')
        lines.append(f'{self.name}_bucket{{le="+Inf"}} {self.observed}')
        lines.append(f"{self.name}_sum {self.total:g}")
        lines.append(f"{self.name}_count {self.observed}")
        return lines


@dataclass(slots=True)
class Gauge:
    name: str
    help: str
    read: Callable[[], float]

    def render(self) -> list[str]:
        return [
            f"# HELP {self.name} {self.help}",
            f"# TYPE {self.name} gauge",
            f"{self.name} {self.read():g}",
        ]


class Metrics:
    """What /metrics shows: updates, replies, upstream latency and errors, tokens, Telegram."""

    def __init__(
        self,
        *,
        active_streams: Callable[[], int],
        api_calls: Callable[[], int],
        api_429: Callable[[], int],
    ) -> None:
        self.updates = Counter("bot_updates_total", "Telegram updates handled.", "type")
        self.replies = Counter("bot_replies_total", "Answers finished, by outcome.", "outcome")
        self.tokens = Counter("bot_tokens_total", "Tokens used by answers.", "kind")
        self.upstream_errors = Counter(
            "bot_upstream_errors_total", "Failed turns, by error kind.", "kind"
        )
        self.first_token = Histogram(
            "bot_upstream_first_token_seconds", "Time from the request to the first token."
        )
        self.answer = Histogram("bot_upstream_answer_seconds", "Time to the whole answer.")
        self._read = [
            Counter("bot_telegram_calls_total", "Bot API calls made by answers."),
            Counter("bot_telegram_retry_after_total", "Bot API 429 answers (flood control)."),
        ]
        self._gauges = [Gauge("bot_active_streams", "Answers being generated now.", active_streams)]
        self._sources = (api_calls, api_429)

    def render(self) -> str:
        for counter, source in zip(self._read, self._sources, strict=True):
            counter.values = {"": float(source())}
        parts: list[str] = []
        metrics: list[Counter | Histogram | Gauge] = [
            self.updates,
            self.replies,
            self.tokens,
            self.upstream_errors,
            self.first_token,
            self.answer,
            *self._read,
            *self._gauges,
        ]
        for metric in metrics:
            parts.extend(metric.render())
        return "\n".join(parts) + "\n"
