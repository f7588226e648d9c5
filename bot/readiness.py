"""Readiness for /readyz: the checks run at most once per `ttl` however many callers ask.

/readyz needs no credentials, and each check may call a service (Telegram's getMe): without the
cache every request to it was a request to Telegram.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[None]]


class Readiness:
    """Runs `checks` (each raises when not ready) and keeps the answer for `ttl` seconds."""

    def __init__(
        self,
        checks: Mapping[str, Check],
        *,
        ttl: float = 5.0,
        timeout: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._checks = dict(checks)
        self._ttl = ttl
        self._timeout = timeout
        self._clock = clock
        self._failed: list[str] = []
        self._at: float | None = None
        self._running: asyncio.Task[list[str]] | None = None

    async def failed(self) -> list[str]:
        """The names of the checks that failed, from the cache while it is fresh."""
        if self._at is not None and self._clock() - self._at < self._ttl:
            return self._failed
        if self._running is None:
            self._running = asyncio.create_task(self._run())
        running = self._running
        try:
            return await asyncio.shield(running)
        finally:
            if running.done() and self._running is running:
                self._running = None

    async def _run(self) -> list[str]:
        failed: list[str] = []
        for name, check in self._checks.items():
            try:
                await asyncio.wait_for(check(), self._timeout)
            except Exception as exc:
                log.warning("not ready check=%s error=%s", name, type(exc).__name__)
                failed.append(name)
        self._failed, self._at = failed, self._clock()
        return failed
