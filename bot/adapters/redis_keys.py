"""The one place that names Redis keys. Per-chat keys share a hash tag, so they stay on one slot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.core.models import ChatKey


@dataclass(frozen=True, slots=True)
class RedisKeys:
    prefix: str
    # Seconds of inactivity after which a chat's history and settings and the all-time counters
    # expire; refreshed on every write (0: never).
    idle_ttl: int = 0

    def _chat(self, chat: ChatKey) -> str:
        topic = f":t{chat.thread_id}" if chat.thread_id is not None else ""
        return f"{self.prefix}:{{chat:{chat.chat_id}}}{topic}"

    def history(self, chat: ChatKey) -> str:
        return f"{self._chat(chat)}:history"

    def variants(self, chat: ChatKey) -> str:
        """The chat's last answer and its variants (expires with the history)."""
        return f"{self._chat(chat)}:variants"

    def questions(self, chat: ChatKey) -> str:
        """The chat's answered questions by message, for edits, a list newest last (expires
        with the history; ":questions" held them as one JSON text before)."""
        return f"{self._chat(chat)}:asked"

    def mode(self, chat: ChatKey) -> str:
        """The chat's mode id (expires with the history)."""
        return f"{self._chat(chat)}:mode"

    def chat_order(self, chat_id: int) -> tuple[str, str, str]:
        """The lock, the waiting queue and the waiters' deadlines of a chat (one slot)."""
        base = self._chat(ChatKey(chat_id))
        return f"{base}:lock", f"{base}:queue", f"{base}:alive"

    def seen(self, update_id: int, chat_id: int | None) -> str:
        """Marks an update as taken; on the chat's slot so admitting it is one script."""
        if chat_id is None:
            return f"{self.prefix}:update:{update_id}"
        return f"{self._chat(ChatKey(chat_id))}:seen:{update_id}"

    def stop_request(self, chat_id: int, generation_id: str) -> str:
        """A Stop pressed on one replica for an answer another replica generates."""
        return f"{self._chat(ChatKey(chat_id))}:stop:{generation_id}"

    def answer_author(self, chat_id: int, generation_id: str) -> str:
        """Who asked for an answer being generated (a Stop from anyone else is refused)."""
        return f"{self._chat(ChatKey(chat_id))}:author:{generation_id}"

    def streaming(self, chat_id: int) -> str:
        """What the chat streams now (a redo reaching another replica stops it first)."""
        return f"{self._chat(ChatKey(chat_id))}:streaming"

    def continuable(self, chat_id: int) -> str:
        """The chat's latest answer cut by the length limit, which Continue may extend."""
        return f"{self._chat(ChatKey(chat_id))}:continuable"

    def usage(self, owner: UsageOwner, period: str) -> str:
        """Usage counters of a user or a group for one period ("d:2026-11-25", "m:2026-11", "all")."""
        kind, owner_id = owner
        return f"{self.prefix}:{{{kind}:{owner_id}}}:usage:{period}"

    def chat_settings(self, chat_id: int) -> str:
        """A chat's own model and system prompt (with its token count)."""
        return f"{self.prefix}:{{chat:{chat_id}}}:settings"

    def bot_settings(self) -> str:
        """Settings for every chat: the default model."""
        return f"{self.prefix}:{{bot}}:settings"

    def flood(self, user_id: int) -> str:
        """A user's recent turn attempts (sorted set by time), for flood control."""
        return f"{self.prefix}:{{user:{user_id}}}:flood"

    def holds(self, owner_id: int) -> str:
        """Tokens reserved by a user's (or channel's) turns in flight, on the user's slot."""
        return f"{self.prefix}:{{user:{owner_id}}}:holds"

    def wallet(self, user_id: int) -> str:
        """A user's paid tokens (packs' balance, a subscription's allowance and its end)."""
        return f"{self.prefix}:{{user:{user_id}}}:wallet"

    def payments(self, user_id: int) -> tuple[str, str]:
        """A user's payments by charge id, and their charge ids newest first (one slot)."""
        base = f"{self.prefix}:{{user:{user_id}}}"
        return f"{base}:payments", f"{base}:paylog"

    def charges(self) -> str:
        """Who paid each charge id (for an admin's refund by charge id)."""
        return f"{self.prefix}:{{pay}}:charges"

    def star_sync(self) -> str:
        """How many of the bot's Star transactions were checked against the ledger."""
        return f"{self.prefix}:{{pay}}:synced"

    def told(self, owner_id: int, chat_id: int) -> str:
        """Until when each refusal was told to a user in a chat (told once per window)."""
        return f"{self.prefix}:{{user:{owner_id}}}:told:{chat_id}"

    def access(self) -> str:
        """Admins' allow/block decisions and quota overrides: one hash, read in one call."""
        return f"{self.prefix}:{{bot}}:access"

    def stats(self, kind: StatsKind, period: str) -> str:
        """The bot's totals ("usage"), per model ("models"), top users and chats (sorted sets)."""
        return f"{self.prefix}:{{stats}}:{kind}:{period}"

    def admin_alert(self, kind: str) -> str:
        """When the bot's admins were last told of an upstream failure of `kind`."""
        return f"{self.prefix}:{{bot}}:alert:{kind}"


UsageOwner = tuple[Literal["user", "chat"], int]
StatsKind = Literal["usage", "models", "users", "chats", "stars"]


def usage_periods(at: datetime) -> tuple[str, str, str]:
    """The day, month and all-time period names for a moment; new periods start by themselves."""
    return f"d:{at:%Y-%m-%d}", f"m:{at:%Y-%m}", "all"
