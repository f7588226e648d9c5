"""Bounds on one answer: its total time, its silence, and its size.

An upstream may keep the connection alive with SSE comments and never send content (the SDK's
read timeout then never fires), or ignore `max_tokens` and stream a megabyte. The watchdog is
one task per answer that sleeps until the nearest bound: no work per token.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bot.core.budget import ANSWER_CHARS_PER_TOKEN

Expiry = Literal["deadline", "idle"]


@dataclass(frozen=True, slots=True)
class AnswerLimits:
    """`total`: seconds for the whole answer; `idle`: seconds without content (text or
    reasoning; keep-alive comments do not count), the wait for the first token included;
    `max_chars` / `entry_chars`: the size of one answer / one history entry (0: derived from
    MAX_TOKENS / the context budget, ANSWER_CHARS_PER_TOKEN characters a token)."""

    total: float = 300.0
    idle: float = 120.0
    max_chars: int = 0
    entry_chars: int = 0

    def answer_chars(self, max_tokens: int) -> int:
        """Characters (answer + reasoning) after which an answer is stopped as "length"."""
        return self.max_chars or max_tokens * ANSWER_CHARS_PER_TOKEN

    def history_chars(self, token_budget: int) -> int:
        """Characters one history entry may hold: more could never be sent to the model."""
        return self.entry_chars or token_budget * ANSWER_CHARS_PER_TOKEN


async def watch(
    limits: AnswerLimits,
    started: float,
    last_content: Callable[[], float],
    clock: Callable[[], float] = time.monotonic,
) -> Expiry:
    """Return when the answer has run out of time: past `started + total`, or `idle` seconds
    after `last_content()` (read again at each wake-up: content moves the bound on)."""
    deadline = started + limits.total
    while True:
        idle_at = last_content() + limits.idle
        now = clock()
        if now >= deadline:
            return "deadline"
        if now >= idle_at:
            return "idle"
        await asyncio.sleep(min(deadline, idle_at) - now)
