"""Prometheus metrics (prometheus-client), kept in a registry the composition root builds.

Every name carries the `gonka_bot_` prefix. Each App has its own registry, so several bots in one
process (tests, replicas side by side) never share counters; the process and GC collectors of the
client library describe the process the registry lives in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    Info,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client import Counter as PromCounter
from prometheus_client import Gauge as PromGauge
from prometheus_client import Histogram as PromHistogram
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from bot import __version__

# `_created` series double every counter's lines and tell nothing a scraper needs here.
disable_created_metrics()  # type: ignore[no-untyped-call]

PREFIX = "gonka_bot"
NO_MODEL = "unknown"
# Time to first token: a warm model answers in 0.2-1 s, a cold or busy one in several seconds,
# and the read timeout ends it at 120 s.
FIRST_TOKEN_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 20.0, 30.0, 60.0)
# The whole answer: seconds for a short one, minutes for MAX_TOKENS at a slow model.
ANSWER_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 90.0, 120.0, 180.0, 300.0)


class Counter:
    """A counter with one label (`label`), and a model label where `by_model` is set."""

    def __init__(
        self,
        registry: CollectorRegistry,
        name: str,
        help: str,
        label: str,
        *,
        by_model: bool = False,
    ) -> None:
        labels = [label, "model"] if by_model else [label]
        self._counter = PromCounter(name, help, labels, namespace=PREFIX, registry=registry)
        self._by_model = by_model

    def inc(self, label: str = "", amount: float = 1.0, *, model: str = NO_MODEL) -> None:
        values = (label, model or NO_MODEL) if self._by_model else (label,)
        self._counter.labels(*values).inc(amount)

    @property
    def values(self) -> dict[str, float]:
        """Totals per value of the first label (over all models)."""
        totals: dict[str, float] = {}
        for metric in self._counter.collect():
            for sample in metric.samples:
                if sample.name.endswith("_total"):
                    key = next(iter(sample.labels.values()))
                    totals[key] = totals.get(key, 0.0) + sample.value
        return totals


class Histogram:
    """Seconds, with a model label."""

    def __init__(
        self, registry: CollectorRegistry, name: str, help: str, buckets: tuple[float, ...]
    ) -> None:
        self._histogram = PromHistogram(
            name, help, ["model"], namespace=PREFIX, registry=registry, buckets=buckets
        )

    def observe(self, value: float, *, model: str = NO_MODEL) -> None:
        self._histogram.labels(model or NO_MODEL).observe(value)


class _ReadCounters(Collector):
    """Counters kept elsewhere (the Bot API call counters), read when /metrics is asked."""

    def __init__(self, sources: dict[str, tuple[str, Callable[[], int]]]) -> None:
        self._sources = sources

    def collect(self) -> Iterator[Metric]:
        for name, (help, read) in self._sources.items():
            family = CounterMetricFamily(f"{PREFIX}_{name}", help)
            family.add_metric([], float(read()))
            yield family


class Metrics:
    """What /metrics shows: updates, replies, upstream latency and errors, tokens, Telegram,
    and the process (CPU, memory, file descriptors) and Python's garbage collector."""

    # The classic text format: every Prometheus version scrapes it.
    content_type = CONTENT_TYPE_PLAIN_0_0_4

    def __init__(
        self,
        *,
        active_streams: Callable[[], int],
        api_calls: Callable[[], int],
        api_429: Callable[[], int],
    ) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        self.updates = Counter(registry, "updates", "Telegram updates handled.", "type")
        self.replies = Counter(
            registry, "replies", "Answers finished, by outcome.", "outcome", by_model=True
        )
        self.tokens = Counter(registry, "tokens", "Tokens used by answers.", "kind", by_model=True)
        self.upstream_errors = Counter(
            registry,
            "upstream_errors",
            "Turns failed by the upstream, by error kind.",
            "kind",
            by_model=True,
        )
        self.turn_errors = Counter(
            registry, "turn_errors", "Turns failed for other reasons (storage, size).", "kind"
        )
        self.first_token = Histogram(
            registry,
            "upstream_first_token_seconds",
            "Time from the request to the first token.",
            FIRST_TOKEN_BUCKETS,
        )
        self.answer = Histogram(
            registry, "upstream_answer_seconds", "Time to the whole answer.", ANSWER_BUCKETS
        )
        registry.register(
            _ReadCounters(
                {
                    "telegram_calls": ("Bot API calls made by answers.", api_calls),
                    "telegram_retry_after": ("Bot API 429 answers (flood control).", api_429),
                }
            )
        )
        streams = PromGauge(
            "active_streams", "Answers being generated now.", namespace=PREFIX, registry=registry
        )
        streams.set_function(lambda: float(active_streams()))
        Info("build", "The running version.", namespace=PREFIX, registry=registry).info(
            {"version": __version__}
        )

    def render(self) -> str:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry).decode()
