"""Stop and Continue signals for one process: no other replica to tell, nothing to share."""

from __future__ import annotations

import asyncio

from bot.core.bounded import Recent


class LocalSignals:
    """The in-memory ReplicaSignals: a press always reaches the process that generates."""

    def __init__(self, remember: int = 10_000) -> None:
        self._continuable: Recent[int, str] = Recent(remember)  # the oldest cut answer goes first

    async def request(self, chat_id: int, generation_id: str, user_id: int) -> bool:
        return False  # not running here means not running at all

    async def watch(
        self, chat_id: int, generation_id: str, user_id: int, stop: asyncio.Event, draft_id: int
    ) -> None:
        await stop.wait()

    async def set_continuable(self, chat_id: int, generation_id: str | None) -> None:
        if generation_id is None:
            self._continuable.pop(chat_id)
        else:
            self._continuable[chat_id] = generation_id

    async def take_continuable(self, chat_id: int, generation_id: str) -> bool:
        if self._continuable.get(chat_id) != generation_id:
            return False
        self._continuable.pop(chat_id)
        return True
