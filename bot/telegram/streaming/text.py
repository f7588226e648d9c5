"""The text + entities painter: a live view on a screen (drafts or paced edits), then the answer
as entity-formatted messages split under the limit."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from aiogram.types import InlineKeyboardMarkup

from bot.core.models import Reply
from bot.formatting.render import Rendered
from bot.telegram.pacing import Pacer
from bot.telegram.streaming.layout import Layout
from bot.telegram.streaming.outbox import DraftsRefused, Outbox
from bot.telegram.streaming.pages import Pages

log = logging.getLogger(__name__)

T = TypeVar("T")

TYPING_EVERY = 4.5
DRAFT_KEEPALIVE = 20.0
FIRST_TYPING_IN_DRAFTS = 2.0


def pace(pacers: tuple[Pacer, ...], reserve: int) -> float:
    return max(p.ready_in(reserve) for p in pacers)


class Screen(Protocol):
    """Where the live piece of the answer shows."""

    async def begin(self) -> None: ...

    def idle_timeout(self, has_text: bool) -> float: ...

    async def keepalive(self, preview: Rendered | None, has_text: bool) -> None: ...

    def ready_in(self, reserve: int) -> float: ...

    async def show(self, index: int, content: Rendered, *, urgent: bool) -> bool:
        """Show the live piece, message `index` of the answer; True when it shows."""
        ...


class EditScreen:
    """Paced edits of the answer's last message, with the Stop button."""

    def __init__(self, outbox: Outbox, pages: Pages, stop: InlineKeyboardMarkup | None) -> None:
        self._outbox = outbox
        self._pages = pages
        self._stop = stop

    async def begin(self) -> None:
        await self._outbox.typing()

    def idle_timeout(self, has_text: bool) -> float:
        return DRAFT_KEEPALIVE if has_text else TYPING_EVERY

    async def keepalive(self, preview: Rendered | None, has_text: bool) -> None:
        if not self._pages.ids:
            await self._outbox.typing()

    def ready_in(self, reserve: int) -> float:
        return pace(self._outbox.pacers(draft=False), reserve)

    async def show(self, index: int, content: Rendered, *, urgent: bool) -> bool:
        return await self._pages.show(index, content, self._stop, final=False, urgent=urgent)


class DraftScreen:
    """Telegram's animated draft (private chats). Raises DraftsRefused where it is not allowed."""

    def __init__(self, outbox: Outbox, draft_id: int) -> None:
        self._outbox = outbox
        self._draft_id = draft_id
        self._last_draft_at = 0.0
        self._typing_sent = False

    async def begin(self) -> None:
        await self.show(0, Rendered(""), urgent=False)  # Telegram's "Thinking…" placeholder

    def idle_timeout(self, has_text: bool) -> float:
        if not has_text and not self._typing_sent:
            # Drafts and chat actions share one rate limit: the first typing action waits until
            # the "Thinking…" draft's slot has come back.
            return FIRST_TYPING_IN_DRAFTS
        return DRAFT_KEEPALIVE if has_text else TYPING_EVERY

    async def keepalive(self, preview: Rendered | None, has_text: bool) -> None:
        if time.monotonic() - self._last_draft_at >= DRAFT_KEEPALIVE:
            await self.show(0, preview or Rendered(""), urgent=False)
        elif not has_text:
            self._typing_sent = True
            await self._outbox.typing()

    def ready_in(self, reserve: int) -> float:
        return pace(self._outbox.pacers(draft=True), reserve)

    async def show(self, index: int, content: Rendered, *, urgent: bool) -> bool:
        shown = await self._outbox.draft(self._draft_id, content, urgent=urgent)
        if shown:
            self._last_draft_at = time.monotonic()
        return shown


class TextPainter:
    """Shows the answer as text + entities. A refused draft moves it to edits for good."""

    def __init__(
        self,
        screen: Screen,
        pages: Pages,
        layout: Layout,
        continue_markup: InlineKeyboardMarkup | None,
        to_edits: Callable[[], Screen],
    ) -> None:
        self._screen = screen
        self._pages = pages
        self._layout = layout
        self._continue = continue_markup
        self._to_edits = to_edits  # the edit screen, and the chat remembered as draft-less
        self._finalized = 0  # pieces complete and shown in full
        self._text_shown = False  # the first answer text has reached the user
        self._finished = False

    async def begin(self) -> None:
        await self._guarded(self._screen.begin(), has_text=False)

    def idle_timeout(self, has_text: bool) -> float:
        return self._screen.idle_timeout(has_text)

    async def keepalive(self, text: str, reasoning: str) -> None:
        preview = self._layout.preview(text, reasoning)
        await self._guarded(self._screen.keepalive(preview, bool(text)), has_text=bool(text))

    def ready_in(self) -> float:
        return self._screen.ready_in(reserve=1 if self._text_shown else 0)

    async def paint(self, text: str, reasoning: str, status: str = "") -> None:
        if not text:
            block = self._layout.with_status(self._layout.preview(text, reasoning), status)
            if block is not None:
                await self._show_live(block, has_text=False)
            return
        layout = self._layout
        pieces = layout.pieces(text, reasoning)
        while self._finalized < len(pieces) - 1:
            index = self._finalized
            await self._pages.show(index, layout.piece(pieces, index, reasoning), None, final=True)
            self._finalized += 1
        live = layout.with_status(layout.piece(pieces, len(pieces) - 1, reasoning), status)
        await self._show_live(live or Rendered(""), has_text=True)

    async def _show_live(self, content: Rendered, *, has_text: bool) -> None:
        urgent = not self._text_shown and has_text
        shown = await self._guarded(
            self._screen.show(self._finalized, content, urgent=urgent), has_text=has_text
        )
        self._text_shown = self._text_shown or (bool(shown) and has_text)

    async def _guarded(self, call: Awaitable[T], *, has_text: bool) -> T | None:
        try:
            return await call
        except DraftsRefused as exc:
            log.warning("drafts refused, switching to edits error=%s", exc)
            self._screen = self._to_edits()
            if not has_text:
                await self._screen.keepalive(None, False)
            return None

    def edits(self) -> None:
        """Drafts were refused on another painter's watch: live updates go by edits now."""
        self._screen = self._to_edits()

    async def finish(self, reply: Reply) -> None:
        self._finished = True
        markup = self._continue if reply.outcome == "length" else None
        pieces = self._layout.final(reply)
        for index, content in enumerate(pieces):
            last = index == len(pieces) - 1
            await self._pages.show(index, content, markup if last else None, final=True)
        await self._pages.blank_from(len(pieces))

    def finished(self) -> None:
        """The answer was delivered by another painter: a failure now goes after it."""
        self._finished = True

    async def fail(self, text: str) -> None:
        index = len(self._pages.ids) if self._finished else 0
        await self._pages.show(index, Rendered(text), None, final=True)
