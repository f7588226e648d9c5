"""MAX_CONCURRENT_UPDATES: the cap on updates handled at once, taken only when an update's turn
in its chat has come, so one busy chat cannot hold every slot while its updates wait in line."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from bot.telegram.middleware import Next

# Updates read ahead per slot (polling and webhook alike). Waiting for their chat's turn they
# cost only memory; the bound keeps a flood from being read without end.
BACKLOG_PER_SLOT = 16


def backlog(slots: int) -> int:
    """How many updates may be in hand (handled or waiting for their chat) for `slots`."""
    return slots * BACKLOG_PER_SLOT


class UpdateSlots(BaseMiddleware):
    """Update middleware, placed inside the chat-order middleware: a message holds a slot while
    it is handled. Button presses and draft stops take none: Stop must get through while the
    answers it is for hold every slot."""

    def __init__(self, slots: int) -> None:
        self._slots = asyncio.Semaphore(slots)

    async def __call__(self, handler: Next, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update) or event.message is None:
            return await handler(event, data)
        async with self._slots:
            return await handler(event, data)
