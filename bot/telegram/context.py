"""The per-update context every handler receives: the Turn, the language, and the caller's
right to manage the chat (asked of Telegram only when a handler needs it)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject, Update, User

from bot.core.access import Gate
from bot.telegram.chat_admins import ChatAdmins
from bot.telegram.texts import Lang, lang_of
from bot.telegram.turn import Turn, turn_of


class Rights:
    """What the caller may do in this chat. Telegram is asked whether they administer the
    group at most once an update, and never in a private chat or for a bot admin."""

    def __init__(
        self, turn: Turn, gate: Gate, chat_admins: ChatAdmins, sender_chat_id: int | None
    ) -> None:
        self._turn = turn
        self._gate = gate
        self._chat_admins = chat_admins
        self._sender_chat_id = sender_chat_id
        self._group_admin: bool | None = None

    @property
    def bot_admin(self) -> bool:
        return self._gate.is_admin(self._turn.user_id)

    async def may_manage(self) -> bool:
        """Clear the history, set the system prompt and the group's context setting."""
        turn = self._turn
        return self._gate.may_manage_chat(turn.user_id, turn.private, await self._is_group_admin())

    async def may_pick_model(self) -> bool:
        turn = self._turn
        return self._gate.may_pick_model(turn.user_id, turn.private, await self._is_group_admin())

    async def _is_group_admin(self) -> bool:
        if self._turn.private or self.bot_admin:
            return False
        if self._group_admin is None:
            self._group_admin = await self._chat_admins.of(
                self._turn.chat_id, self._turn.user_id, self._sender_chat_id
            )
        return self._group_admin


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

    def __init__(self, gate: Gate, chat_admins: ChatAdmins) -> None:
        self._gate = gate
        self._chat_admins = chat_admins

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        lang = lang_of(user.language_code if user else None)
        data["lang"] = lang
        found = update_turn(event, lang) if isinstance(event, Update) else None
        if found is not None:
            turn, sender_chat_id = found
            data["turn"] = turn
            data["rights"] = Rights(turn, self._gate, self._chat_admins, sender_chat_id)
        return await handler(event, data)
