"""Updates being handled right now, so a shutdown can let them finish; counts them for metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from bot.metrics import Metrics

log = logging.getLogger(__name__)


class Inflight(BaseMiddleware):
    """Update middleware: remembers each update's task until its handlers are done."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._tasks: set[asyncio.Task[Any]] = set()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Update):
            self._metrics.updates.inc(event.event_type)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            return await handler(event, data)
        finally:
            if task is not None:
                self._tasks.discard(task)

    @property
    def count(self) -> int:
        return len(self._tasks)

    async def drain(self, grace: float) -> None:
        """Wait up to `grace` seconds for the updates in hand, then cancel what is left."""
        pending = {task for task in self._tasks if task is not asyncio.current_task()}
        if not pending:
            return
        log.info("waiting for updates in hand count=%s grace_s=%s", len(pending), grace)
        _, late = await asyncio.wait(pending, timeout=grace)
        for task in late:
            task.cancel()
        if late:
            log.warning("grace period over, cancelled updates count=%s", len(late))
            await asyncio.wait(late, timeout=5)
