"""AnswerView: one answer on screen, live while it streams, then delivered. One degrade path:

    live:  rich draft -> text draft -> edits of the answer's messages (with the Stop button)
    final: rich messages -> text + entities (a refused piece goes as text, the others stay rich;
           rich_final.deliver_rich)

What Telegram refuses moves the view down that path for the rest of the answer and the step is
made again there. A chat that refuses drafts is remembered (`on_drafts_refused`); a server
without rich methods turns rich off for the process (`RichSwitch`). Every pace is the
`Cadence`'s, which the call policy holds each call to as well.

An inline message (editMessageText by inline_message_id) is one more target of this view, not
another stack: a Target that addresses it, Pages that start with it, live by edits, one piece.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from aiogram.types import InlineKeyboardMarkup

from bot.core.models import Reply
from bot.formatting.render import Rendered
from bot.telegram.streaming.layout import Layout
from bot.telegram.streaming.outbox import DraftsRefused, Outbox
from bot.telegram.streaming.pages import Pages
from bot.telegram.streaming.rich import RichRefused, RichSwitch, RichUnavailable
from bot.telegram.streaming.rich_final import deliver_rich

log = logging.getLogger(__name__)


class Live(IntEnum):  # how the answer shows while it streams, in the order it degrades
    RICH_DRAFT = 0
    DRAFT = 1
    EDITS = 2


@dataclass(frozen=True, slots=True)
class AnswerParts:
    """What one answer's view needs besides its outbox."""

    layout: Layout
    draft_id: int | None  # None: no drafts in this chat (groups, or drafts refused)
    stop_markup: InlineKeyboardMarkup | None
    continue_markup: InlineKeyboardMarkup | None
    rich: RichSwitch
    on_drafts_refused: Callable[[], None]
    done_markup: InlineKeyboardMarkup | None = None  # under an answer not cut by the limit
    replaces: tuple[int, ...] = ()  # the messages of the answer this one replaces (edited)


class AnswerView:
    """Implements core.ports.ReplySink for one answer, plus `fail` and `close`. It keeps the
    latest text (an update never waits) and one sender loop shows it when the pace allows."""

    def __init__(self, outbox: Outbox, parts: AnswerParts) -> None:
        self._outbox = outbox
        self._pages = Pages(outbox, parts.replaces)
        self._parts = parts
        self._layout = parts.layout
        self._cadence = outbox.cadence
        self._draft_id = parts.draft_id or 0  # used only when drafts are on: then it is set
        self._live = Live.EDITS if parts.draft_id is None else Live.DRAFT
        if self._live is Live.DRAFT and parts.rich.use_drafts:
            self._live = Live.RICH_DRAFT
        self._text = self._reasoning = ""
        self._status = ""  # the running tools' lines, until the answer text goes on
        self._status_at = 0  # the length of the text when they came
        self._fresh = False  # text not shown yet
        self._wake = asyncio.Event()  # new text, or closing
        self._closed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._finalized = 0  # pieces complete and shown in full while streaming
        self._text_shown = False  # the first answer text has reached the user
        self._last_draft_at = 0.0
        self._typing_sent = False
        self._finished = False

    # -- ReplySink ------------------------------------------------------------------------------

    async def started(self) -> None:
        # Returns at once: the upstream request must not wait for a Bot API call.
        if self._task is None:  # a retry with a fallback model starts the same view again
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
        self._finished = True
        if self._parts.rich.messages and reply.text.strip() and await self._deliver_rich(reply):
            return
        await self._pages.show_final(self._layout.final(reply), self._final_markup(reply))

    @property
    def shown(self) -> tuple[int, ...]:
        """The messages showing the answer."""
        return tuple(self._pages.ids)

    def _final_markup(self, reply: Reply) -> InlineKeyboardMarkup | None:
        if reply.outcome == "length":
            return self._parts.continue_markup
        return self._parts.done_markup if reply.text.strip() else None

    async def _deliver_rich(self, reply: Reply) -> bool:
        """The final answer as rich messages (rich_final); False when text must go instead."""
        markup = self._final_markup(reply)
        return await deliver_rich(self._pages, self._layout, self._parts.rich, reply, markup)

    async def fail(self, text: str) -> None:
        """Tell the user what failed: in place of the answer, or after it once delivered."""
        await self.close()
        index = len(self._pages.ids) if self._finished else 0
        await self._pages.show(index, Rendered(text), None, final=True)

    async def close(self) -> None:
        """Stop the live updates (idempotent). Nothing is cancelled: every wait of the loop ends
        on closing, and a call in flight completes, so the final answer goes out at once."""
        self._closed.set()
        self._wake.set()
        if self._task is not None:
            await self._task

    # -- the sender loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        # A live update that fails unexpectedly ends the live view only: `close` (called by
        # `finish` and again by the caller's cleanup) must not raise it, or the final answer
        # is never sent and the caller's bookkeeping is skipped. Logged by type: the error may
        # quote the answer.
        try:
            await self._loop()
        except Exception as exc:
            log.warning("live updates stopped error=%s", type(exc).__name__)

    async def _loop(self) -> None:
        await self._degrading(self._placeholder)
        since = time.monotonic()
        while not self._closed.is_set():
            if not self._fresh:
                if await self._woken(self._idle_timeout() - (time.monotonic() - since)):
                    continue
                await self._degrading(self._keepalive)
            elif (delay := self._ready_in()) > 0:
                await self._closing(delay)
                continue
            else:
                self._fresh = False
                text = self._text
                shown = await self._degrading(self._paint)
                self._text_shown = self._text_shown or (shown and bool(text))
            since = time.monotonic()

    async def _woken(self, seconds: float) -> bool:
        """Wait for new text or closing; False when `seconds` passed first."""
        self._wake.clear()
        if self._fresh or self._closed.is_set():
            return True
        return await _set_within(self._wake, max(0.05, seconds))

    async def _closing(self, seconds: float) -> None:
        """Sleep through the pace, but not past the end of the stream."""
        await _set_within(self._closed, seconds)

    def _idle_timeout(self) -> float:
        """Seconds of silence after which the keep-alive runs."""
        cadence, has_text = self._cadence, bool(self._text)
        if self._live is not Live.EDITS and not has_text and not self._typing_sent:
            return cadence.first_typing_in_drafts
        return cadence.draft_keepalive if has_text else cadence.typing_every

    def _ready_in(self) -> float:
        """Seconds until the next live update may go: the chat's pace, keeping the reserve once
        the first text shows."""
        reserve = self._cadence.reserve if self._text_shown else 0
        pacers = self._outbox.pacers(draft=self._live is not Live.EDITS)
        return max(p.ready_in(reserve) for p in pacers)

    # -- live steps, each made again one way down when Telegram refuses it ----------------------

    async def _degrading(self, step: Callable[[], Awaitable[bool]]) -> bool:
        while True:
            try:
                return await step()
            except (RichRefused, RichUnavailable) as exc:
                if self._live is not Live.RICH_DRAFT:
                    raise
                if isinstance(exc, RichUnavailable):
                    self._parts.rich.off(str(exc))
                else:
                    log.warning("rich draft refused, drafting as text error=%s", exc)
                self._live = Live.DRAFT
            except DraftsRefused as exc:
                if self._live is Live.EDITS:
                    raise
                log.warning("drafts refused, switching to edits error=%s", exc)
                self._live = Live.EDITS
                self._parts.on_drafts_refused()

    async def _placeholder(self) -> bool:
        """The request went upstream: a thinking draft, or a typing action."""
        if self._live is Live.EDITS:
            await self._outbox.typing()
            return False
        if self._live is Live.RICH_DRAFT:
            return await self._rich_draft("", "", "", urgent=False)
        return await self._draft(Rendered(""), urgent=False)  # Telegram's "Thinking…"

    async def _keepalive(self) -> bool:
        text, reasoning = self._text, self._reasoning
        if self._live is Live.EDITS:
            if not self._pages.ids:
                await self._outbox.typing()
            return False
        if time.monotonic() - self._last_draft_at >= self._cadence.draft_keepalive:
            if self._live is Live.RICH_DRAFT:
                return await self._rich_draft(text, reasoning, "", urgent=False)
            return await self._draft(self._layout.preview(text, reasoning) or Rendered(""))
        if not text:
            self._typing_sent = True
            await self._outbox.typing()
        return False

    async def _paint(self) -> bool:
        """Show the answer so far, then the running tools' lines; True when it shows."""
        text, reasoning, status = self._text, self._reasoning, self._status
        urgent = not self._text_shown and bool(text)
        if self._live is Live.RICH_DRAFT:
            return await self._rich_draft(text, reasoning, status, urgent=urgent)
        layout = self._layout
        if not text:
            live = layout.with_status(layout.preview(text, reasoning), status)
            if live is None:
                return False
        else:
            pieces = layout.pieces(text, reasoning)
            while self._finalized < len(pieces) - 1:
                done = layout.piece(pieces, self._finalized, reasoning)
                await self._pages.show(self._finalized, done, None, final=True)
                self._finalized += 1
            last = layout.piece(pieces, len(pieces) - 1, reasoning)
            live = layout.with_status(last, status) or Rendered("")
        if self._live is Live.DRAFT:
            return await self._draft(live, urgent=urgent)
        stop = self._parts.stop_markup
        return await self._pages.show(self._finalized, live, stop, final=False, urgent=urgent)

    async def _draft(self, content: Rendered, *, urgent: bool = False) -> bool:
        shown = await self._outbox.draft(self._draft_id, content, urgent=urgent)
        self._last_draft_at = time.monotonic() if shown else self._last_draft_at
        return shown

    async def _rich_draft(self, text: str, reasoning: str, status: str, *, urgent: bool) -> bool:
        if not self._parts.rich.use_drafts:  # switched off for the process meanwhile
            raise RichUnavailable("rich drafts are off")
        markdown = self._layout.rich_preview(text, reasoning, status)
        shown = await self._outbox.draft_rich(self._draft_id, markdown, urgent=urgent)
        self._last_draft_at = time.monotonic() if shown else self._last_draft_at
        return shown


async def _set_within(event: asyncio.Event, seconds: float) -> bool:
    """Wait for `event` at most `seconds`; whether it is set. (asyncio.wait_for made a task
    for each wait and another loop turn to cancel it: several waits a second per answer.)"""
    if event.is_set():
        return True
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()
