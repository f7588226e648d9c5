"""Coalescing: the messages a user sends together (a split paste, an album, a forward and its
question) become one turn.

Telegram clients send a text over 4,096 characters as consecutive messages a moment apart, an
album as one message per item sharing a `media_group_id`, and a forward as its own message. A
part that may have company (near the limit, a forward, an album item) opens a *window*; parts of
the same user in the same chat or topic that arrive while it is open join it. The window closes
when no part arrived for `gap` seconds (`settle` after a part that would not open one itself, such
as the short tail of a paste), and at the latest `max_wait` after it opened.

An ordinary short message with no window open returns at once: it costs one dict lookup.

The part that opened the window waits and then returns the whole turn; the parts that joined return
None (their update is handled by the opener's turn). The wait must run where it does not hold the
chat's order lock, or the next part could never arrive while the first one waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

P = TypeVar("P")

# "call": a group message that calls the bot with no words (a bare mention): what the caller
# says next (a voice note, a file) is its question.
PartKind = Literal["text", "forward", "media", "call", "other"]


@dataclass(frozen=True, slots=True)
class CoalesceConfig:
    """`gap`: seconds of quiet that close a window; `settle`: the same after a part that does not
    open a window itself; `max_wait`: the longest a window stays open; `near_limit`: a text this
    long (characters) may be the first part of a split paste. `enabled=False` turns it off."""

    gap: float = 1.0
    settle: float = 0.3
    max_wait: float = 3.0
    near_limit: int = 3500
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class CoalesceKey:
    """Whose messages may belong together: one user in one chat (and topic)."""

    chat_id: int
    thread_id: int | None
    user_id: int


@dataclass(frozen=True)  # no slots: Part[X](...) sets __orig_class__
class Part(Generic[P]):
    """One incoming message as the coalescer sees it; `payload` is the caller's own object."""

    message_id: int
    kind: PartKind
    text: str = ""
    media_group_id: str | None = None
    payload: P | None = None


@dataclass(frozen=True)
class Batch(Generic[P]):
    """The parts that form one turn, in the order of their message ids."""

    parts: tuple[Part[P], ...]

    @property
    def text(self) -> str:
        """The parts' texts joined by newlines (a split paste, or a forward and its question)."""
        return "\n".join(p.text for p in self.parts if p.text)

    @property
    def first(self) -> Part[P]:
        return self.parts[0]


@dataclass(slots=True)
class _Window(Generic[P]):
    opened: float
    last: float
    quiet: float
    parts: list[Part[P]] = field(default_factory=list)


class Coalescer(Generic[P]):
    """Groups parts into turns. `clock` and `sleep` are injectable for tests."""

    def __init__(
        self,
        config: CoalesceConfig,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._config = config
        self._clock = clock
        self._sleep = sleep
        self._windows: dict[CoalesceKey, _Window[P]] = {}

    def opens_window(self, part: Part[P]) -> bool:
        """Whether `part` may have company: near the limit, a forward, a bare call, or an album
        item."""
        if not self._config.enabled:
            return False
        return (
            part.kind in ("forward", "call")
            or part.media_group_id is not None
            or len(part.text) >= self._config.near_limit
        )

    @property
    def open_windows(self) -> int:
        return len(self._windows)

    async def offer(self, key: CoalesceKey, part: Part[P]) -> Batch[P] | None:
        """The turn `part` completes, or None when it joined a window another call answers.

        A part that opens no window and finds none open returns its own turn at once.
        """
        now = self._clock()
        window = self._windows.get(key)
        if window is not None:
            if all(p.message_id != part.message_id for p in window.parts):  # a redelivery
                window.parts.append(part)
                window.last = now
                window.quiet = self._quiet(part)
            return None
        if not self.opens_window(part):
            return Batch((part,))
        window = _Window(opened=now, last=now, quiet=self._config.gap, parts=[part])
        self._windows[key] = window
        try:
            await self._wait(window)
        finally:
            del self._windows[key]
        return Batch(tuple(sorted(window.parts, key=lambda p: p.message_id)))

    def _quiet(self, part: Part[P]) -> float:
        return self._config.gap if self.opens_window(part) else self._config.settle

    async def _wait(self, window: _Window[P]) -> None:
        # A joining part can bring the deadline closer (gap -> settle); sleeping in steps of at
        # most `settle` wakes the opener before any such new deadline, without an event per window.
        step = max(self._config.settle, 0.05)
        while True:
            deadline = min(window.last + window.quiet, window.opened + self._config.max_wait)
            remaining = deadline - self._clock()
            if remaining <= 0:
                return
            await self._sleep(min(remaining, step))
