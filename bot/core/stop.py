"""The signal that ends an answer early, and how its partial text is then marked."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class Streaming:
    """What a chat streams now, whichever replica generates it: a press or an edit that redoes
    it stops it first. `user_id` may Stop it (whom it is given), `asker` asked the answer it is
    (a regeneration keeps the first asker); `asked` is the message it answers (a question or
    an edited one), `redoing` the answer it answers again (a regeneration)."""

    generation_id: str
    user_id: int
    asker: int
    thread_id: int | None = None
    asked: int | None = None
    redoing: str | None = None
