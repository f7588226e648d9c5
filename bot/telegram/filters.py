"""Filters shared by routers.

All async: aiogram runs a synchronous filter (a magic `F` filter too) with asyncio.to_thread, on
the default executor, where one blocked thread per update then decides whether the bot answers
at all (tests/telegram/test_async_filters.py keeps it so).
"""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import Message


class ChatType(Filter):
    """The message is in a chat of one of these types ("private", "group", "supergroup")."""

    def __init__(self, *types: str) -> None:
        self._types = frozenset(types)

    async def __call__(self, message: Message) -> bool:
        return message.chat.type in self._types


class Carries(Filter):
    """The message carries at least one of these fields ("text", "document", "rich_message"...)."""

    def __init__(self, *fields: str) -> None:
        self._fields = fields

    async def __call__(self, message: Message) -> bool:
        return any(getattr(message, name, None) for name in self._fields)
