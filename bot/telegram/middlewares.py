"""Middlewares: per-chat ordering and the user's language."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from bot.telegram.texts import lang_of


class ChatLocks:
    """FIFO locks per chat: the second message of a chat waits for the first answer."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def run(self, chat_id: int, call: Callable[[], Awaitable[Any]]) -> Any:
        # Lock acquisition happens before the first suspension point of the update's task, so
        # updates of one chat enter in the order the dispatcher received them.
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._users[chat_id] = self._users.get(chat_id, 0) + 1
        try:
            async with lock:
                return await call()
        finally:
            self._users[chat_id] -= 1
            if not self._users[chat_id]:
                del self._users[chat_id]
                del self._locks[chat_id]


class ChatOrderMiddleware(BaseMiddleware):
    def __init__(self, locks: ChatLocks) -> None:
        self._locks = locks

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        chat = data.get("event_chat")
        if chat is None:
            return await handler(event, data)
        return await self._locks.run(chat.id, lambda: handler(event, data))


class LanguageMiddleware(BaseMiddleware):
    """Puts `lang` ("en" or "ru") into handler data from the user's Telegram language."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        data["lang"] = lang_of(user.language_code if user else None)
        return await handler(event, data)
