"""Per-chat ordering of updates, in one process or across replicas."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from bot.core.bounded import Recent
from bot.core.errors import StorageUnavailable
from bot.core.ports import ChatOrder
from bot.telegram.middleware import Next

log = logging.getLogger(__name__)


class ChatLocks:
    """In-process FIFO locks per chat (one replica, no shared Redis)."""

    def __init__(self, remember: int = 10_000) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}
        self._seen: Recent[int, None] = Recent(remember)

    async def admit(self, update_id: int, chat_id: int | None) -> bool:
        if update_id in self._seen:
            return False
        self._seen.add(update_id)
        return True

    def busy_chats(self) -> int:
        """Chats with an update running or waiting for its turn."""
        return len(self._locks)

    async def run(
        self,
        chat_id: int,
        update_id: int,
        call: Callable[[], Awaitable[Any]],
        *,
        admitted: bool = True,
    ) -> Any:
        # Lock acquisition happens before the first suspension point of the update's task, so
        # updates of one chat enter in the order the dispatcher received them.
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._users[chat_id] = self._users.get(chat_id, 0) + 1
        try:
            async with lock:
                if not admitted and not await self.admit(update_id, chat_id):
                    return None
                return await call()
        finally:
            self._users[chat_id] -= 1
            if not self._users[chat_id]:
                del self._users[chat_id]
                del self._locks[chat_id]


class ChatOrderMiddleware(BaseMiddleware):
    """Update middleware: messages run in their chat's turn; redelivered updates are dropped.

    The webhook admits updates before answering Telegram and says so with `admitted=True`.
    """

    def __init__(self, order: ChatOrder) -> None:
        self._order = order

    async def __call__(self, handler: Next, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        admitted = bool(data.get("admitted"))
        chat = data.get("event_chat")
        if event.message is not None and chat is not None:
            # A payment is credited once by its charge id (the ledger's own key): never dropped
            # as a duplicate, so a redelivery after a crash mid-credit still credits it.
            paid = event.message.successful_payment is not None
            return await self._order.run(
                chat.id, event.update_id, lambda: handler(event, data), admitted=admitted or paid
            )
        if not admitted:
            try:
                fresh = await self._order.admit(event.update_id, None)
            except StorageUnavailable:
                fresh = True  # buttons keep working (Stop above all) while Redis is away
            if not fresh:
                log.info("duplicate update dropped update_id=%s", event.update_id)
                return None
        return await handler(event, data)
