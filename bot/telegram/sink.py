"""TelegramSink: shows a streamed answer as an animated draft (private chats) or paced edits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from aiogram.types import InlineKeyboardMarkup

from bot.core.models import Reply
from bot.formatting.render import (
    Rendered,
    render_folded,
    render_markdown,
    split_markdown,
    utf16_len,
)
from bot.formatting.rich_markdown import (
    RICH_TEXT_LIMIT,
    escape_html,
    escape_text,
    make_safe,
    split_rich,
)
from bot.telegram.delivery import Delivery, DraftsRefused
from bot.telegram.pacing import wait_ready
from bot.telegram.rich import RichRefused, RichSwitch, RichUnavailable

log = logging.getLogger(__name__)

Mode = Literal["draft", "edit"]

# Room kept free in every piece for the closing note ("Stopped", "interrupted", ...).
NOTE_RESERVE = 160
REASONING_SHOWN = 1000
TYPING_EVERY = 4.5
DRAFT_KEEPALIVE = 20.0
FIRST_TYPING_IN_DRAFTS = 2.0
THINKING_SHOWN = 300  # reasoning tail in the rich draft's thinking block
# Room kept in every rich piece for the folded reasoning and the closing note.
RICH_RESERVE = 2 * REASONING_SHOWN + 600


@dataclass(frozen=True, slots=True)
class SinkOptions:
    mode: Mode
    limit: int
    show_reasoning: bool
    draft_id: int
    stop_markup: InlineKeyboardMarkup | None
    continue_markup: InlineKeyboardMarkup | None
    notes: dict[str, str]
    rich: RichSwitch = field(default_factory=lambda: RichSwitch(messages=False, drafts=False))


class TelegramSink:
    """Implements core.ports.ReplySink for one reply in one chat."""

    def __init__(
        self,
        delivery: Delivery,
        options: SinkOptions,
        on_drafts_refused: Callable[[], None],
    ) -> None:
        self._delivery = delivery
        self._options = options
        self._mode: Mode = options.mode
        self._on_drafts_refused = on_drafts_refused
        self._text = ""
        self._reasoning = ""
        self._wake = asyncio.Event()
        self._closing = False
        self._in_call = False
        self._task: asyncio.Task[None] | None = None
        self._messages: list[int] = []  # ids of the messages this reply occupies
        self._shown: dict[int, tuple[Rendered, InlineKeyboardMarkup | None]] = {}
        self._finalized = 0  # pieces that are complete and shown in full
        self._last_draft_at = 0.0
        self._text_shown = False  # the first answer text has reached the user
        self._finished = False
        self._typing_sent = False
        self._rich_drafts = options.rich.use_drafts  # off for this reply once content is refused

    @property
    def mode(self) -> Mode:
        return self._mode

    async def started(self) -> None:
        # Returns at once: the upstream request must not wait for a Bot API call.
        if self._task is None:  # a retry with a fallback model starts the same sink again
            self._task = asyncio.create_task(self._run())

    def update(self, text: str, reasoning: str) -> None:
        self._text = text.strip()
        self._reasoning = reasoning
        self._wake.set()

    async def finish(self, reply: Reply) -> None:
        await self.close()
        self._finished = True
        markup = self._options.continue_markup if reply.outcome == "length" else None
        rich = self._options.rich.messages and bool(reply.text.strip())
        if rich and await self._finish_rich(reply, markup):
            return
        pieces = self._final_pieces(reply)
        for index, content in enumerate(pieces):
            last = index == len(pieces) - 1
            await self._show(index, content, markup if last else None, final=True)
        await self._drop_extra(len(pieces))

    async def fail(self, text: str) -> None:
        """Tell the user what failed: in place of the answer, or after it once it was delivered."""
        await self.close()
        index = len(self._messages) if self._finished else 0
        await self._show(index, Rendered(text), None, final=True)

    # -- streaming ---------------------------------------------------------------------------

    async def _run(self) -> None:
        self._in_call = True
        try:
            if self._mode == "draft" and self._use_rich_drafts:
                await self._draft_rich(self._rich_preview())
            elif self._mode == "draft":
                await self._draft(Rendered(""))  # Telegram's "Thinking…" placeholder
            if self._mode == "edit":
                await self._delivery.typing()
        finally:
            self._in_call = False
        waited_since = time.monotonic()
        while not self._closing:
            timeout = self._idle_timeout(waited_since)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                await self._keepalive()
                waited_since = time.monotonic()
                continue
            self._wake.clear()
            if self._closing:
                # Python 3.11's wait_for drops a cancel that arrives as the wait ends: without
                # this check the loop would sleep through the draft pace before the final send.
                return
            await self._pace()
            if self._closing:
                return
            self._in_call = True
            try:
                await self._flush()
            finally:
                self._in_call = False
            waited_since = time.monotonic()

    def _idle_timeout(self, since: float) -> float:
        every = TYPING_EVERY if not self._text else DRAFT_KEEPALIVE
        if self._mode == "draft" and not self._text and not self._typing_sent:
            # Drafts and chat actions share one rate limit: the first typing action waits until
            # the "Thinking…" draft's slot has come back.
            every = FIRST_TYPING_IN_DRAFTS
        return max(0.05, every - (time.monotonic() - since))

    async def _keepalive(self) -> None:
        if self._mode == "edit" and not self._messages:
            await self._delivery.typing()
        elif self._mode == "draft" and time.monotonic() - self._last_draft_at >= DRAFT_KEEPALIVE:
            if self._use_rich_drafts:
                await self._draft_rich(self._rich_preview())
            else:
                await self._draft(self._current_preview())
        elif self._mode == "draft" and not self._text:
            self._typing_sent = True
            await self._delivery.typing()

    async def _pace(self) -> None:
        draft = self._mode == "draft"
        pacers = self._delivery.draft_pacers if draft else self._delivery.message_pacers
        await wait_ready(pacers, reserve=1 if self._text_shown else 0)

    async def _flush(self) -> None:
        if self._mode == "draft" and self._use_rich_drafts:
            urgent = not self._text_shown and bool(self._text)
            shown = await self._draft_rich(self._rich_preview(), urgent=urgent)
            self._text_shown = self._text_shown or (shown and bool(self._text))
            return
        if not self._text:
            if self._reasoning and self._options.show_reasoning:
                await self._show_current(self._reasoning_block())
            return
        pieces = split_markdown(self._text, self._piece_limit())
        while self._finalized < len(pieces) - 1:
            index = self._finalized
            await self._show(index, self._piece(pieces, index), None, final=True)
            self._finalized += 1
        await self._show_current(self._piece(pieces, len(pieces) - 1))

    async def _show_current(self, content: Rendered) -> None:
        urgent = not self._text_shown and bool(self._text)
        if self._mode == "draft":
            shown = await self._draft(content, urgent=urgent)
        else:
            shown = await self._show(
                self._finalized, content, self._options.stop_markup, final=False, urgent=urgent
            )
        self._text_shown = self._text_shown or (shown and bool(self._text))

    def _current_preview(self) -> Rendered:
        if not self._text:
            return self._reasoning_block() if self._options.show_reasoning else Rendered("")
        pieces = split_markdown(self._text, self._piece_limit())
        return self._piece(pieces, len(pieces) - 1)

    async def _draft(self, content: Rendered, *, urgent: bool = False) -> bool:
        try:
            shown = await self._delivery.draft(self._options.draft_id, content, urgent=urgent)
        except DraftsRefused as exc:
            await self._drafts_refused(exc)
            return False
        if shown:
            self._last_draft_at = time.monotonic()
        return shown

    async def _drafts_refused(self, exc: DraftsRefused) -> None:
        log.warning("drafts refused, switching to edits error=%s", exc)
        self._mode = "edit"
        self._on_drafts_refused()
        if not self._text:
            await self._delivery.typing()

    @property
    def _use_rich_drafts(self) -> bool:
        return self._rich_drafts and self._options.rich.use_drafts

    def _rich_preview(self) -> str:
        """The rich draft: a thinking block until the answer starts, then the answer so far."""
        if not self._text:
            status = self._options.notes.get("thinking", "")
            if self._reasoning and self._options.show_reasoning:
                tail = self._reasoning[-THINKING_SHOWN:].strip()
                status = ("…" if len(self._reasoning) > THINKING_SHOWN else "") + tail
            return f"<tg-thinking>{escape_html(status)}</tg-thinking>"
        pieces = split_rich(self._text, RICH_TEXT_LIMIT - RICH_RESERVE)
        return make_safe(pieces[-1])

    async def _draft_rich(self, markdown: str, *, urgent: bool = False) -> bool:
        try:
            shown = await self._delivery.draft_rich(self._options.draft_id, markdown, urgent=urgent)
        except RichRefused as exc:
            log.warning("rich draft refused, drafting as text error=%s", exc)
            self._rich_drafts = False
            return await self._draft(self._current_preview(), urgent=urgent)
        except RichUnavailable as exc:
            self._options.rich.off(str(exc))
            return await self._draft(self._current_preview(), urgent=urgent)
        except DraftsRefused as exc:
            await self._drafts_refused(exc)
            return False
        if shown:
            self._last_draft_at = time.monotonic()
        return shown

    # -- rich final answer ---------------------------------------------------------------------

    async def _finish_rich(self, reply: Reply, markup: InlineKeyboardMarkup | None) -> bool:
        """Deliver the answer as rich messages; False when nothing was sent and text must go."""
        self._text = reply.text.strip()
        self._reasoning = reply.reasoning
        note = self._options.notes.get(reply.outcome, "")
        pieces = split_rich(self._text, RICH_TEXT_LIMIT - RICH_RESERVE)
        slot = 0
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            piece_note = note if last else ""
            piece_markup = markup if last else None
            markdown = make_safe(piece)
            if index == 0:
                markdown = self._rich_reasoning() + markdown
            if piece_note:
                markdown += "\n\n_" + escape_text(piece_note) + "_"
            try:
                await self._show_rich(slot, markdown, piece_markup)
                slot += 1
                continue
            except RichUnavailable as exc:
                self._options.rich.off(str(exc))
                if index == 0:
                    return False
            except RichRefused as exc:
                log.warning("rich message refused, resending as text error=%s", exc)
            slot = await self._show_as_text(slot, piece, index == 0, piece_note, piece_markup)
        for stale in self._messages[slot:]:
            await self._delivery.delete(stale)
        del self._messages[slot:]
        return True

    def _rich_reasoning(self) -> str:
        if not (self._reasoning.strip() and self._options.show_reasoning):
            return ""
        tail = self._reasoning[-REASONING_SHOWN:].strip()
        if len(self._reasoning) > REASONING_SHOWN:
            tail = "…" + tail
        # Plain text only: formulas inside <details> crash some Telegram Desktop versions.
        summary = escape_html(self._options.notes.get("reasoning", ""))
        return f"<details><summary>{summary}</summary>\n\n{escape_text(tail)}\n\n</details>\n\n"

    async def _show_rich(
        self, slot: int, markdown: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        """Message `slot` of this reply becomes this rich message (the streamed one is edited)."""
        if slot < len(self._messages):
            message_id = self._messages[slot]
            if await self._delivery.edit_rich(message_id, markdown, markup):
                self._shown.pop(message_id, None)
                return
            sent = await self._delivery.send_rich(markdown, markup)
            if sent is not None:
                # The streamed copy (with its Stop button) would stay behind, half-written.
                await self._delivery.delete(message_id)
                self._messages[slot] = sent
            return
        sent = await self._delivery.send_rich(markdown, markup)
        if sent is not None:
            self._messages.append(sent)

    async def _show_as_text(
        self, slot: int, piece: str, first: bool, note: str, markup: InlineKeyboardMarkup | None
    ) -> int:
        """The entity path for one rich piece (split at the text limit); returns the next slot."""
        parts = split_markdown(piece, self._piece_limit())
        rendered = [render_markdown(part) for part in parts]
        if first and self._reasoning and self._options.show_reasoning:
            rendered[0] = self._reasoning_block() + Rendered("\n\n") + rendered[0]
        if note:
            rendered[-1] = rendered[-1] + Rendered("\n\n" + note)
        for index, content in enumerate(rendered):
            last = index == len(rendered) - 1
            await self._show(slot, content, markup if last else None, final=True)
            slot += 1
        return slot

    # -- pieces ------------------------------------------------------------------------------

    def _piece_limit(self) -> int:
        reserve = NOTE_RESERVE
        if self._options.show_reasoning and self._reasoning:
            reserve += utf16_len(self._reasoning[-REASONING_SHOWN:]) + 8
        return max(256, self._options.limit - reserve)

    def _reasoning_block(self) -> Rendered:
        tail = self._reasoning[-REASONING_SHOWN:]
        if len(self._reasoning) > REASONING_SHOWN:
            tail = "…" + tail
        return render_folded(tail)

    def _piece(self, pieces: list[str], index: int) -> Rendered:
        content = render_markdown(pieces[index])
        if index == 0 and self._reasoning and self._options.show_reasoning:
            return self._reasoning_block() + Rendered("\n\n") + content
        return content

    def _final_pieces(self, reply: Reply) -> list[Rendered]:
        self._text = reply.text.strip()
        self._reasoning = reply.reasoning
        note = self._options.notes.get(reply.outcome, "")
        if not self._text:
            return [Rendered(note or self._options.notes["empty"])]
        pieces = split_markdown(self._text, self._piece_limit())
        rendered = [self._piece(pieces, i) for i in range(len(pieces))]
        if note:
            rendered[-1] = rendered[-1] + Rendered("\n\n" + note)
        return rendered

    # -- messages ----------------------------------------------------------------------------

    async def _show(
        self,
        index: int,
        content: Rendered,
        markup: InlineKeyboardMarkup | None,
        *,
        final: bool,
        urgent: bool = False,
    ) -> bool:
        """Make message `index` of this reply show `content`; True when it does."""
        if index < len(self._messages):
            message_id = self._messages[index]
            if self._shown.get(message_id) == (content, markup):
                return True
            if await self._delivery.edit(message_id, content, markup, final=final, urgent=urgent):
                self._shown[message_id] = (content, markup)
                return True
            if not final:
                return False
            # The message cannot be edited (deleted by the user, too old): send the text anew.
            sent = await self._delivery.send(content, markup, final=True)
            if sent is None:
                return False
            self._messages[index] = sent
            self._shown[sent] = (content, markup)
            return True
        if index > len(self._messages):
            return False
        sent = await self._delivery.send(content, markup, final=final, urgent=urgent)
        if sent is None:
            return False
        self._messages.append(sent)
        self._shown[sent] = (content, markup)
        return True

    async def _drop_extra(self, keep: int) -> None:
        # Pieces only grow, so this is a safety net: no stale half-message is left behind.
        for stale in self._messages[keep:]:
            await self._delivery.edit(stale, Rendered("…"), None, final=True)

    async def close(self) -> None:
        """Stop the background updates (idempotent); an update already in flight completes."""
        self._closing = True
        self._wake.set()
        task = self._task
        if task is None:
            return
        if not self._in_call:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
