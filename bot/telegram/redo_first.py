"""A /retry stops the answer its sender is being given in the chat before it waits for the
chat's turn: that answer is then the one answered again (the turn waits for it otherwise)."""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from bot.telegram.answering import Answering
from bot.telegram.middleware import Next

RETRY = "/retry"


def is_retry(text: str | None) -> bool:
    """Whether a message's text is the /retry command (/retry@bot included)."""
    if not text or not text.startswith(RETRY):
        return False
    rest = text[len(RETRY) :]
    return not rest or rest[0] in " @\n"


class RedoFirst(BaseMiddleware):
    """Update middleware, before the chat order: a /retry stops its sender's answer in the chat."""

    def __init__(self, answering: Answering) -> None:
        self._answering = answering

    async def __call__(self, handler: Next, event: TelegramObject, data: dict[str, Any]) -> Any:
        message = event.message if isinstance(event, Update) else None
        if message is not None and message.from_user is not None and is_retry(message.text):
            self._answering.stop_own(message.chat.id, message.from_user.id)
        return await handler(event, data)
