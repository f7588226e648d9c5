"""The admins' report: the bot's usage, the upstream's health and recent latency."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core.models import PeriodStats
from bot.core.monitor import Monitor, MonitorSnapshot
from bot.core.ports import ModelCatalog, StatsStore


@dataclass(frozen=True, slots=True)
class StatsReport:
    periods: list[PeriodStats]  # today, this month, all time
    healthy: bool
    monitor: MonitorSnapshot


class StatsService:
    def __init__(
        self,
        store: StatsStore,
        catalog: ModelCatalog,
        monitor: Monitor,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._monitor = monitor
        self._clock = clock

    async def report(self, top: int = 5) -> StatsReport:
        """Totals per period, per model, top users and chats, health, latency and errors."""
        periods = await self._store.stats(self._clock(), top)
        return StatsReport(periods, await self._catalog.health(), self._monitor.snapshot())
