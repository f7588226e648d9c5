"""Whose update this is, for the per-user cap on worker jobs (bot/core/jobs.py `job_owner`)."""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from bot.core.jobs import job_owner
from bot.telegram.middleware import Next


class JobOwnerMiddleware(BaseMiddleware):
    """Sets `job_owner` to the update's user while the update is handled (the tasks it starts,
    such as the answer and its tool calls, inherit it)."""

    async def __call__(self, handler: Next, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = data.get("event_from_user")
        token = job_owner.set(user.id if isinstance(user, User) else None)
        try:
            return await handler(event, data)
        finally:
            job_owner.reset(token)
