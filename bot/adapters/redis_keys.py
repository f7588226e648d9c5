"""The one place that names Redis keys. Per-chat keys share a hash tag, so they stay on one slot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.models import ChatKey


@dataclass(frozen=True, slots=True)
class RedisKeys:
    prefix: str

    def _chat(self, chat: ChatKey) -> str:
        topic = f":t{chat.thread_id}" if chat.thread_id is not None else ""
        return f"{self.prefix}:{{chat:{chat.chat_id}}}{topic}"

    def history(self, chat: ChatKey) -> str:
        return f"{self._chat(chat)}:history"

    def _user(self, user_id: int) -> str:
        return f"{self.prefix}:{{user:{user_id}}}"

    def usage_day(self, user_id: int, at: datetime) -> str:
        return f"{self._user(user_id)}:usage:d:{at:%Y-%m-%d}"

    def usage_month(self, user_id: int, at: datetime) -> str:
        return f"{self._user(user_id)}:usage:m:{at:%Y-%m}"

    def usage_all(self, user_id: int) -> str:
        return f"{self._user(user_id)}:usage:all"
