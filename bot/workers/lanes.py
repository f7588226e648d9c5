"""Two lanes of workers: `calculate` (milliseconds, a short limit) never waits behind a
document or a web page (seconds each) for a free process."""

from __future__ import annotations

from typing import Any

from bot.workers.pool import WorkerLimits, WorkerPool

LIGHT_JOBS = frozenset({"calculate"})
LIGHT_TIMEOUT = 5.0
LIGHT_MEMORY_MB = 256


class WorkerLanes:
    """A `JobRunner` sending light jobs to one small worker and the rest to the pool."""

    def __init__(self, limits: WorkerLimits) -> None:
        self.heavy = WorkerPool(limits)
        light = WorkerLimits(
            processes=1,
            timeout=min(LIGHT_TIMEOUT, limits.timeout),
            memory_mb=min(LIGHT_MEMORY_MB, limits.memory_mb) or LIGHT_MEMORY_MB,
            max_jobs=limits.max_jobs,
            user_jobs=limits.user_jobs,
            idle_seconds=limits.idle_seconds,
        )
        self.light = WorkerPool(light)

    async def run(self, job: str, *args: Any) -> Any:
        lane = self.light if job in LIGHT_JOBS else self.heavy
        return await lane.run(job, *args)

    @property
    def busy(self) -> int:
        """Jobs running or waiting, in both lanes."""
        return self.heavy.busy + self.light.busy

    @property
    def processes(self) -> list[int]:
        """The process ids of the running workers of both lanes."""
        return self.heavy.processes + self.light.processes

    async def aclose(self) -> None:
        """Kill every worker of both lanes now."""
        await self.heavy.aclose()
        await self.light.aclose()
