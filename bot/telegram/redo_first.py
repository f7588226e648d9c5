"""A /retry stops the answer streaming in its chat before it waits for the chat's turn, on
whichever replica generates it: that answer is then the one answered again (the turn waits for
it otherwise). Only a sender who may redo it stops it: in a group its asker, the one it is
given, or the group's admins; a refused /retry stops nothing."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from bot.core.stop import Streaming
from bot.telegram.answering import Answering
from bot.telegram.middleware import Next
from bot.telegram.rights import Rights
from bot.telegram.turn import Turn

log = logging.getLogger(__name__)

RETRY = "/retry"


def is_retry(text: str | None) -> bool:
    """Whether a message's text is the /retry command (/retry@bot included)."""
    if not text or not text.startswith(RETRY):
        return False
    rest = text[len(RETRY) :]
    return not rest or rest[0] in " @\n"


def may_stop_at_once(turn: Turn, streaming: Streaming) -> bool:
    """Whether the sender may stop the streaming answer to redo it, Telegram not asked: in a
    private chat, or as its asker or the one it is given."""
    return turn.private or turn.user_id in (streaming.asker, streaming.user_id)


class RedoFirst(BaseMiddleware):
    """Update middleware, before the chat order: a /retry stops the chat's streaming answer.

    The stop runs aside, so the /retry enters its chat's order before the next update whatever
    the stop waits for (Redis, or Telegram naming a group's admins); the /retry's handler gets
    it as `stopping_first` and waits for it before it regenerates (so it never stops its own)."""

    provides: ClassVar[dict[str, Any]] = {"stopping_first": asyncio.Task}

    def __init__(self, answering: Answering) -> None:
        self._answering = answering
        self._stops: set[asyncio.Task[None]] = set()

    async def __call__(self, handler: Next, event: TelegramObject, data: dict[str, Any]) -> Any:
        message = event.message if isinstance(event, Update) else None
        turn, rights = data.get("turn"), data.get("rights")
        if message is not None and is_retry(message.text) and turn is not None:
            stop = asyncio.create_task(self._stop_first(turn, rights))
            self._stops.add(stop)
            stop.add_done_callback(self._stops.discard)
            data["stopping_first"] = stop
        return await handler(event, data)

    async def _stop_first(self, turn: Turn, rights: Rights | None) -> None:
        try:
            streaming = await self._answering.streaming(turn)
            if streaming is None:
                return
            if may_stop_at_once(turn, streaming) or (
                rights is not None and await rights.may("manage_chat")
            ):
                await self._answering.stop_streaming(turn.chat_id, streaming)
        except Exception:
            log.exception("retry stop not made chat=%s", turn.chat_id)
