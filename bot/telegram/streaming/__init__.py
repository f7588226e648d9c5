"""Streaming an answer to the screen: a sink keeps the latest text, a painter shows it.

sink.StreamSink (the core's ReplySink) runs the sender loop; text.TextPainter paints text +
entities (drafts or paced edits); rich_painter.RichPainter paints rich drafts and rich messages.
`build_sink` puts one together for a chat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup

from bot.telegram.pacing import Pacers
from bot.telegram.streaming.layout import Layout
from bot.telegram.streaming.outbox import Outbox, Target
from bot.telegram.streaming.pages import Pages
from bot.telegram.streaming.rich import RichSwitch
from bot.telegram.streaming.rich_painter import RichDrafts, RichPainter
from bot.telegram.streaming.sink import Live, StreamSink
from bot.telegram.streaming.text import DraftScreen, EditScreen, Screen, TextPainter

__all__ = ["Layout", "Outbox", "SinkParts", "StreamSink", "Target", "build_sink"]


@dataclass(frozen=True, slots=True)
class SinkParts:
    """What one answer's painters need."""

    layout: Layout
    draft_id: int | None  # None: no drafts in this chat (groups, or drafts refused)
    stop_markup: InlineKeyboardMarkup | None
    continue_markup: InlineKeyboardMarkup | None
    rich: RichSwitch
    on_drafts_refused: Callable[[], None]


def build_sink(bot: Bot, pacers: Pacers, target: Target, parts: SinkParts) -> StreamSink:
    """The sink of one answer: text painter, wrapped in the rich one when rich messages are on."""
    outbox = Outbox(bot, target, pacers)
    pages = Pages(outbox)

    def to_edits() -> Screen:
        parts.on_drafts_refused()
        return EditScreen(outbox, pages, parts.stop_markup)

    screen: Screen = (
        EditScreen(outbox, pages, parts.stop_markup)
        if parts.draft_id is None
        else DraftScreen(outbox, parts.draft_id)
    )
    text = TextPainter(screen, pages, parts.layout, parts.continue_markup, to_edits)
    if not parts.rich.messages:
        return StreamSink(text)
    live: Live = text
    if parts.draft_id is not None and parts.rich.use_drafts:
        live = RichDrafts(outbox, parts.layout, parts.rich, parts.draft_id, text)
    return StreamSink(
        RichPainter(live, text, pages, parts.layout, parts.rich, parts.continue_markup)
    )
