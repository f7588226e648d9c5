"""The signal that ends an answer early, and how its partial text is then marked."""

from __future__ import annotations

import asyncio

from bot.core.models import Outcome


class StopSignal(asyncio.Event):
    """Set by the user's Stop ("stopped") or by a shutdown whose grace is over ("shut_down")."""

    def __init__(self) -> None:
        super().__init__()
        self.outcome: Outcome = "stopped"

    def shut_down(self) -> None:
        """End the answer because the bot is shutting down: its partial text is delivered (with
        a note of its own, not the network error of a cut stream), stored and counted."""
        if not self.is_set():
            self.outcome = "shut_down"
        self.set()


def stopped_as(stop: asyncio.Event) -> Outcome:
    """How an answer ended by `stop` is marked."""
    return stop.outcome if isinstance(stop, StopSignal) else "stopped"
