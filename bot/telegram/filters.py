"""Filters shared by routers."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message


class IsAdmin(Filter):
    """The event comes from one of the bot's admins (ADMIN_IDS)."""

    def __init__(self, admins: frozenset[int]) -> None:
        self._admins = admins

    async def __call__(self, event: Message | CallbackQuery) -> bool:
        user = event.from_user
        return user is not None and user.id in self._admins
