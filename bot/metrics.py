"""Prometheus metrics (prometheus-client): the exposition of what core.monitor.Monitor records.

One path: every part of the bot records into the Monitor, and one collector reads it (with the
Bot API call counters and the answers running) when /metrics is asked. Every name carries the
`gonka_bot_` prefix. Each App has its own registry, so several bots in one process (tests,
replicas side by side) never share counters; the process and GC collectors of the client
library describe the process the registry lives in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import accumulate

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from bot import __version__
from bot.core.monitor import CounterName, DurationName, Monitor

PREFIX = "gonka_bot"
COUNTERS: dict[CounterName, tuple[str, tuple[str, ...]]] = {  # help, label names
    "updates": ("Telegram updates handled.", ("type",)),
    "replies": ("Answers finished, by outcome.", ("outcome", "model")),
    "tokens": ("Tokens used by answers.", ("kind", "model")),
    "upstream_errors": ("Turns failed by the upstream, by error kind.", ("kind", "model")),
    "turn_errors": ("Turns failed for other reasons (storage, size).", ("kind",)),
}
DURATIONS: dict[DurationName, str] = {
    "upstream_first_token_seconds": "Time from the request to the first token.",
    "upstream_answer_seconds": "Time to the whole answer.",
}


class _Exposition(Collector):
    """Reads the Monitor and the counters kept elsewhere when /metrics is asked."""

    def __init__(
        self,
        monitor: Monitor,
        reads: dict[str, tuple[str, Callable[[], int]]],
        streams: Callable[[], int],
    ) -> None:
        self._monitor = monitor
        self._reads = reads
        self._streams = streams

    def collect(self) -> Iterator[Metric]:
        for counter, (help, labels) in COUNTERS.items():
            family = CounterMetricFamily(f"{PREFIX}_{counter}", help, labels=labels)
            for values, value in list(self._monitor.counts[counter].items()):
                family.add_metric(values, value)
            yield family
        for duration, help in DURATIONS.items():
            histogram = HistogramMetricFamily(f"{PREFIX}_{duration}", help, labels=["model"])
            for model, durations in list(self._monitor.durations[duration].items()):
                bounds = [*(f"{bound}" for bound in durations.bounds), "+Inf"]
                buckets = list(zip(bounds, accumulate(durations.counts), strict=True))
                histogram.add_metric([model], buckets, durations.total)
            yield histogram
        for name, (help, read) in self._reads.items():
            yield CounterMetricFamily(f"{PREFIX}_{name}", help, value=float(read()))
        yield GaugeMetricFamily(
            f"{PREFIX}_active_streams", "Answers being generated now.", value=float(self._streams())
        )
        yield InfoMetricFamily(
            f"{PREFIX}_build", "The running version.", value={"version": __version__}
        )


class Metrics:
    """What /metrics shows: updates, replies, upstream latency and errors, tokens, Telegram,
    and the process (CPU, memory, file descriptors) and Python's garbage collector."""

    # The classic text format: every Prometheus version scrapes it.
    content_type = CONTENT_TYPE_PLAIN_0_0_4

    def __init__(
        self,
        monitor: Monitor,
        *,
        active_streams: Callable[[], int],
        api_calls: Callable[[], int],
        api_429: Callable[[], int],
    ) -> None:
        self.monitor = monitor
        self.registry = registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        reads = {
            "telegram_calls": ("Bot API calls made by answers.", api_calls),
            "telegram_retry_after": ("Bot API 429 answers (flood control).", api_429),
        }
        registry.register(_Exposition(monitor, reads, active_streams))

    def render(self) -> str:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry).decode()
