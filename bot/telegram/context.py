"""The per-update context every handler receives: the Turn, the language, and the caller's
Rights (Telegram is asked only when a handler needs it)."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject, Update, User

from bot.core.access import Gate
from bot.telegram.chat_admins import ChatAdmins
from bot.telegram.middleware import Next
from bot.telegram.rights import Rights as Rights  # handlers import it from here too
from bot.telegram.texts import Lang, lang_of
from bot.telegram.turn import Turn, turn_of


def update_turn(update: Update, lang: Lang) -> tuple[Turn, int | None] | None:
    """The turn an update starts, and the chat its author posts as; None when it has no chat
    to answer in."""
    if update.message is not None:
        message = update.message
        sender = message.sender_chat.id if message.sender_chat else None
        return turn_of(message, lang), sender
    query = update.callback_query
    if query is not None and isinstance(query.message, Message):
        # A press on the bot's message: the presser's turn, answered to the presser.
        turn = turn_of(query.message, lang, user_id=query.from_user.id)
        return dataclasses.replace(turn, callback_query_id=query.id), None
    return None


class ContextMiddleware(BaseMiddleware):
    """Update middleware: puts `lang`, and for messages and button presses `turn` and `rights`,
    into handler data (the error handler sees them too)."""

    provides: ClassVar[dict[str, Any]] = {"lang": Lang, "turn": Turn, "rights": Rights}

    def __init__(self, gate: Gate, chat_admins: ChatAdmins) -> None:
        self._gate = gate
        self._chat_admins = chat_admins

    async def __call__(self, handler: Next, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        lang = lang_of(user.language_code if user else None)
        data["lang"] = lang
        found = update_turn(event, lang) if isinstance(event, Update) else None
        if found is not None:
            turn, sender_chat_id = found
            data["turn"] = turn
            data["rights"] = Rights(turn, self._gate, self._chat_admins, sender_chat_id)
        return await handler(event, data)
