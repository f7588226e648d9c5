"""StreamSink: the core's ReplySink for Telegram. It keeps the latest text (an update never waits)
and runs one sender loop that hands it to a painter when the chat's pace allows."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Protocol

from bot.core.models import Reply

log = logging.getLogger(__name__)


class Live(Protocol):
    """What shows an answer while it streams."""

    async def begin(self) -> None:
        """The request went upstream: a placeholder or a typing action."""

    def idle_timeout(self, has_text: bool) -> float:
        """Seconds of silence after which `keepalive` runs."""
        ...

    async def keepalive(self, text: str, reasoning: str) -> None: ...

    def ready_in(self) -> float:
        """Seconds until the next live update may go (the chat's pace)."""
        ...

    async def paint(self, text: str, reasoning: str, status: str = "") -> None:
        """Show the answer so far; `status`: the running tools' lines, shown after it."""
        ...


class Painter(Live, Protocol):
    """A live view plus the final answer."""

    async def finish(self, reply: Reply) -> None: ...

    async def fail(self, text: str) -> None:
        """Tell the user what failed: in place of the answer, or after it once delivered."""


class StreamSink:
    """Implements core.ports.ReplySink for one answer in one chat, plus `fail` and `close`."""

    def __init__(self, painter: Painter) -> None:
        self._painter = painter
        self._text = ""
        self._reasoning = ""
        self._status = ""  # the running tools' lines, until the answer text goes on
        self._status_at = 0  # the length of the text when they came
        self._fresh = False  # text the painter has not seen
        self._wake = asyncio.Event()  # new text, or closing
        self._closed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def started(self) -> None:
        # Returns at once: the upstream request must not wait for a Bot API call.
        if self._task is None:  # a retry with a fallback model starts the same sink again
            self._task = asyncio.create_task(self._run())

    def update(self, text: str, reasoning: str) -> None:
        self._text = text.strip()
        if self._status and len(self._text) > self._status_at:
            self._status = ""  # the answer goes on: the tool lines go away
        self._reasoning = reasoning
        self._fresh = True
        self._wake.set()

    def tool_status(self, lines: Sequence[str]) -> None:
        self._status = "\n".join(lines)
        self._status_at = len(self._text)
        self._fresh = True
        self._wake.set()

    async def finish(self, reply: Reply) -> None:
        await self.close()
        await self._painter.finish(reply)

    async def fail(self, text: str) -> None:
        await self.close()
        await self._painter.fail(text)

    async def close(self) -> None:
        """Stop the live updates (idempotent). Nothing is cancelled: every wait of the loop ends
        on closing, and a call in flight completes, so the final answer goes out at once."""
        self._closed.set()
        self._wake.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        # A live update that fails unexpectedly ends the live view only: `close` (called by
        # `finish` and again by the caller's cleanup) must not raise it, or the final answer
        # is never sent and the caller's bookkeeping is skipped. Logged by type: the error may
        # quote the answer.
        try:
            await self._live()
        except Exception as exc:
            log.warning("live updates stopped error=%s", type(exc).__name__)

    async def _live(self) -> None:
        painter = self._painter
        await painter.begin()
        since = time.monotonic()
        while not self._closed.is_set():
            if not self._fresh:
                if await self._woken(
                    painter.idle_timeout(bool(self._text)) - (time.monotonic() - since)
                ):
                    continue
                await painter.keepalive(self._text, self._reasoning)
            elif (delay := painter.ready_in()) > 0:
                await self._closing(delay)
                continue
            else:
                self._fresh = False
                await painter.paint(self._text, self._reasoning, self._status)
            since = time.monotonic()

    async def _woken(self, seconds: float) -> bool:
        """Wait for new text or closing; False when `seconds` passed first."""
        self._wake.clear()
        if self._fresh or self._closed.is_set():
            return True
        try:
            await asyncio.wait_for(self._wake.wait(), max(0.05, seconds))
        except TimeoutError:
            return False
        return True

    async def _closing(self, seconds: float) -> None:
        """Sleep through the pace, but not past the end of the stream."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closed.wait(), seconds)
