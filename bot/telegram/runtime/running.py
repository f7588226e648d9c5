"""What runs right now: the answers being generated (for Stop buttons and a shutdown) and the
updates being handled (so a shutdown can let them finish)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from aiogram.types.update import UpdateTypeLookupError

from bot.core.monitor import Monitor
from bot.core.stop import StopSignal
from bot.telegram.middleware import Next

log = logging.getLogger(__name__)

# After the grace, how long interrupted answers get to deliver, store and count what they have.
WRAP_UP = 5.0


@dataclass(slots=True)
class Generation:
    """One answer being generated."""

    id: str
    chat_id: int
    user_id: int
    draft_id: int
    stop: StopSignal = field(default_factory=StopSignal)


class Running:
    """In-process registry of running answers and of the updates in hand."""

    def __init__(self) -> None:
        self._answers: dict[str, Generation] = {}
        self._updates: set[asyncio.Task[Any]] = set()
        self.closing = False  # the shutdown's grace is over: no new answer may start

    def start(self, chat_id: int, user_id: int) -> Generation:
        generation = Generation(
            id=secrets.token_hex(6),
            chat_id=chat_id,
            user_id=user_id,
            draft_id=secrets.randbelow(2**31 - 2) + 1,
        )
        self._answers[generation.id] = generation
        return generation

    def end(self, generation: Generation) -> None:
        self._answers.pop(generation.id, None)

    def get(self, generation_id: str) -> Generation | None:
        return self._answers.get(generation_id)

    def by_draft(self, chat_id: int, draft_id: int) -> Generation | None:
        for generation in self._answers.values():
            if generation.chat_id == chat_id and generation.draft_id == draft_id:
                return generation
        return None

    def answers(self) -> list[Generation]:
        """The answers being generated now, oldest first."""
        return list(self._answers.values())

    @property
    def active(self) -> int:
        """How many answers are being generated now."""
        return len(self._answers)

    @property
    def updates(self) -> int:
        """How many updates are being handled now."""
        return sum(1 for task in self._updates if not task.done())

    def hold(self, task: asyncio.Task[Any]) -> None:
        """Count `task` among the updates in hand until it is released or done."""
        if task not in self._updates:
            self._updates.add(task)
            task.add_done_callback(self._updates.discard)

    def release(self, task: asyncio.Task[Any]) -> None:
        self._updates.discard(task)

    async def finish(self, grace: float) -> None:
        """Let the updates in hand finish within `grace` seconds. Answers still running then are
        shut down (their partial text delivered with a note that the bot restarted, stored and
        counted); what is left after that is cancelled."""
        pending = self._pending()
        if not pending:
            return
        log.info("waiting for updates in hand count=%s grace_s=%s", len(pending), grace)
        _, late = await asyncio.wait(pending, timeout=grace)
        if not late:
            return
        self.closing = True
        for generation in self.answers():
            generation.stop.shut_down()
        log.warning("grace period over, interrupted answers count=%s", len(self._answers))
        _, stuck = await asyncio.wait(late, timeout=WRAP_UP)
        for task in stuck:
            task.cancel()
        if stuck:
            log.warning("grace period over, cancelled updates count=%s", len(stuck))
            await asyncio.wait(stuck, timeout=5)

    def _pending(self) -> set[asyncio.Task[Any]]:
        current = asyncio.current_task()
        return {task for task in self._updates if task is not current and not task.done()}


class HoldUpdates(BaseMiddleware):
    """Update middleware: each update's task is held in `Running` until its handlers are done;
    updates are counted for metrics. An update of a type aiogram does not know (a newer Bot
    API) is skipped, with one warning for the process."""

    def __init__(self, running: Running, monitor: Monitor) -> None:
        self._running = running
        self._monitor = monitor
        self._unknown_told = False

    async def __call__(self, handler: Next, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Update):
            try:
                kind = event.event_type
            except UpdateTypeLookupError:
                self._unknown(event)
                return None
            self._monitor.count("updates", kind)
        task = asyncio.current_task()
        if task is None:
            return await handler(event, data)
        self._running.hold(task)
        try:
            return await handler(event, data)
        finally:
            self._running.release(task)

    def _unknown(self, update: Update) -> None:
        fields = ",".join(sorted(update.model_extra or {}))
        # No field at all: an update the session could not parse (told there) and emptied.
        if fields and not self._unknown_told:
            self._unknown_told = True
            log.warning(
                "unknown update type skipped (aiogram does not know it; told once) "
                "update_id=%d fields=%s",
                update.update_id,
                fields,
            )
