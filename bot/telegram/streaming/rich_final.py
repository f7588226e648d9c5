"""The final answer as rich messages, one piece a message; a piece Telegram refuses goes as text
and + entities in its place, the others stay rich (the last step of the view's degrade path)."""

from __future__ import annotations

import logging

from aiogram.types import InlineKeyboardMarkup

from bot.core.models import Reply
from bot.telegram.streaming.layout import Layout
from bot.telegram.streaming.pages import Pages
from bot.telegram.streaming.rich import RichRefused, RichSwitch, RichUnavailable

log = logging.getLogger(__name__)


async def deliver_rich(
    pages: Pages,
    layout: Layout,
    rich: RichSwitch,
    reply: Reply,
    markup: InlineKeyboardMarkup | None,
) -> bool:
    """Deliver the answer as rich messages, `markup` under the last; False when nothing was sent
    and text must go (rich messages are off for the process then)."""
    note = layout.closing(reply.outcome)
    pieces = layout.rich_pieces(reply.text.strip())
    slot = 0
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        piece_note, piece_markup = (note, markup) if last else ("", None)
        markdown = layout.rich_piece(piece, index == 0, reply.reasoning, piece_note)
        try:
            await pages.show_rich(slot, markdown, piece_markup)
            slot += 1
            continue
        except RichUnavailable as exc:
            rich.off(str(exc))
            if index == 0:
                return False
        except RichRefused as exc:
            log.warning("rich message refused, resending as text error=%s", exc)
        parts = layout.rich_as_text(piece, index == 0, reply.reasoning, piece_note)
        for part_index, part in enumerate(parts):
            part_markup = piece_markup if part_index == len(parts) - 1 else None
            await pages.show(slot, part, part_markup, final=True)
            slot += 1
    await pages.delete_from(slot)
    return True
