"""The signal that ends an answer early, and how its partial text is then marked."""

from __future__ import annotations

import asyncio

from bot.core.models import Outcome


class StopSignal(asyncio.Event):
    """Set by the user's Stop ("stopped") or by a shutdown whose grace is over ("interrupted")."""

    def __init__(self) -> None:
        super().__init__()
        self.outcome: Outcome = "stopped"

    def interrupt(self) -> None:
        """End the answer as interrupted: its partial text is delivered, stored and counted."""
        if not self.is_set():
            self.outcome = "interrupted"
        self.set()


def stopped_as(stop: asyncio.Event) -> Outcome:
    """How an answer ended by `stop` is marked."""
    return stop.outcome if isinstance(stop, StopSignal) else "stopped"
