"""Routes a Stop to the answer it names, here or on another replica; only its author may."""

from __future__ import annotations

from bot.adapters.redis_signals import draft_name
from bot.core.ports import ReplicaSignals
from bot.telegram.runtime.running import Running


class Stopping:
    """Finds the answer a Stop button or Telegram's native draft stop is meant for."""

    def __init__(self, running: Running, signals: ReplicaSignals) -> None:
        self._running = running
        self._signals = signals

    async def stop(self, chat_id: int, generation_id: str, user_id: int) -> bool:
        """Stop the answer if `user_id` asked for it; True only then. An answer generated here
        is decided here; otherwise the replica generating it is asked."""
        generation = self._running.get(generation_id)
        if generation is None:
            return await self._signals.request(chat_id, generation_id, user_id)
        if generation.user_id != user_id:
            return False
        generation.stop.set()
        return True

    async def stop_draft(self, chat_id: int, draft_id: int) -> bool:
        """Telegram's native stop of a draft; passed to the replica generating it if not here."""
        generation = self._running.by_draft(chat_id, draft_id)
        if generation is not None:
            generation.stop.set()
            return True
        # Drafts exist only in private chats, where the chat id is the user's id.
        return await self._signals.request(chat_id, draft_name(draft_id), chat_id)
