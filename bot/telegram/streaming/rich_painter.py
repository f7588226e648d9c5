"""The rich painter: rich drafts while the answer streams, then sendRichMessage or a rich edit.
Whatever Telegram refuses goes by the text painter it is built around."""

from __future__ import annotations

import logging
import time

from aiogram.types import InlineKeyboardMarkup

from bot.core.models import Reply
from bot.telegram.streaming.layout import Layout
from bot.telegram.streaming.outbox import DraftsRefused, Outbox
from bot.telegram.streaming.pages import Pages
from bot.telegram.streaming.rich import RichRefused, RichSwitch, RichUnavailable
from bot.telegram.streaming.sink import Live
from bot.telegram.streaming.text import (
    DRAFT_KEEPALIVE,
    FIRST_TYPING_IN_DRAFTS,
    TYPING_EVERY,
    TextPainter,
    pace,
)

log = logging.getLogger(__name__)


class RichDrafts:
    """The live view as rich drafts; on refusal the text painter takes over the live view."""

    def __init__(
        self, outbox: Outbox, layout: Layout, switch: RichSwitch, draft_id: int, text: TextPainter
    ) -> None:
        self._outbox = outbox
        self._layout = layout
        self._switch = switch
        self._draft_id = draft_id
        self._text = text
        self._live: Live = self
        self._last_draft_at = 0.0
        self._typing_sent = False
        self._text_shown = False

    async def begin(self) -> None:
        await self._draft("", "", urgent=False)

    def idle_timeout(self, has_text: bool) -> float:
        if self._live is not self:
            return self._live.idle_timeout(has_text)
        if not has_text and not self._typing_sent:
            return FIRST_TYPING_IN_DRAFTS  # see DraftScreen
        return DRAFT_KEEPALIVE if has_text else TYPING_EVERY

    async def keepalive(self, text: str, reasoning: str) -> None:
        if self._live is not self:
            await self._live.keepalive(text, reasoning)
        elif time.monotonic() - self._last_draft_at >= DRAFT_KEEPALIVE:
            await self._draft(text, reasoning, urgent=False)
        elif not text:
            self._typing_sent = True
            await self._outbox.typing()

    def ready_in(self) -> float:
        if self._live is not self:
            return self._live.ready_in()
        return pace(self._outbox.pacers(draft=True), reserve=1 if self._text_shown else 0)

    async def paint(self, text: str, reasoning: str, status: str = "") -> None:
        if self._live is not self:
            await self._live.paint(text, reasoning, status)
            return
        urgent = not self._text_shown and bool(text)
        shown = await self._draft(text, reasoning, urgent=urgent, status=status)
        self._text_shown = self._text_shown or (shown and bool(text))

    async def _draft(self, text: str, reasoning: str, *, urgent: bool, status: str = "") -> bool:
        markdown = self._layout.rich_preview(text, reasoning, status)
        try:
            if not self._switch.use_drafts:  # switched off for the process meanwhile
                raise RichUnavailable("rich drafts are off")
            shown = await self._outbox.draft_rich(self._draft_id, markdown, urgent=urgent)
        except (RichRefused, RichUnavailable) as exc:
            if isinstance(exc, RichUnavailable):
                self._switch.off(str(exc))
            else:
                log.warning("rich draft refused, drafting as text error=%s", exc)
            self._live = self._text
            if text or status:
                await self._text.paint(text, reasoning, status)
            else:
                await self._text.begin()
            return False
        except DraftsRefused as exc:
            log.warning("drafts refused, switching to edits error=%s", exc)
            self._live = self._text
            self._text.edits()
            if not text:
                await self._outbox.typing()
            return False
        if shown:
            self._last_draft_at = time.monotonic()
        return shown


class RichPainter:
    """Final answer as rich messages; the live view is `live` (rich drafts, or the text one)."""

    def __init__(
        self,
        live: Live,
        text: TextPainter,
        pages: Pages,
        layout: Layout,
        switch: RichSwitch,
        continue_markup: InlineKeyboardMarkup | None,
    ) -> None:
        self._live = live
        self._text = text
        self._pages = pages
        self._layout = layout
        self._switch = switch
        self._continue = continue_markup

    async def begin(self) -> None:
        await self._live.begin()

    def idle_timeout(self, has_text: bool) -> float:
        return self._live.idle_timeout(has_text)

    async def keepalive(self, text: str, reasoning: str) -> None:
        await self._live.keepalive(text, reasoning)

    def ready_in(self) -> float:
        return self._live.ready_in()

    async def paint(self, text: str, reasoning: str, status: str = "") -> None:
        await self._live.paint(text, reasoning, status)

    async def finish(self, reply: Reply) -> None:
        if self._switch.messages and reply.text.strip() and await self._finish_rich(reply):
            self._text.finished()
            return
        await self._text.finish(reply)

    async def fail(self, text: str) -> None:
        await self._text.fail(text)

    async def _finish_rich(self, reply: Reply) -> bool:
        """Deliver the answer as rich messages; False when nothing was sent and text must go."""
        markup = self._continue if reply.outcome == "length" else None
        note = self._layout.note(reply.outcome)
        pieces = self._layout.rich_pieces(reply.text.strip())
        slot = 0
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            piece_note, piece_markup = (note, markup) if last else ("", None)
            markdown = self._layout.rich_piece(piece, index == 0, reply.reasoning, piece_note)
            try:
                await self._pages.show_rich(slot, markdown, piece_markup)
                slot += 1
                continue
            except RichUnavailable as exc:
                self._switch.off(str(exc))
                if index == 0:
                    return False
            except RichRefused as exc:
                log.warning("rich message refused, resending as text error=%s", exc)
            parts = self._layout.rich_as_text(piece, index == 0, reply.reasoning, piece_note)
            for part_index, part in enumerate(parts):
                part_markup = piece_markup if part_index == len(parts) - 1 else None
                await self._pages.show(slot, part, part_markup, final=True)
                slot += 1
        await self._pages.delete_from(slot)
        return True
