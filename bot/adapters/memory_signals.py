"""Stop and Continue signals for one process: no other replica to tell, nothing to share."""

from __future__ import annotations

import asyncio

from bot.core.bounded import Recent
from bot.core.stop import Streaming


class LocalSignals:
    """The in-memory ReplicaSignals: a press always reaches the process that generates."""

    def __init__(self, remember: int = 10_000) -> None:
        self._continuable: Recent[int, str] = Recent(remember)  # the oldest cut answer goes first
        self._streaming: dict[int, Streaming] = {}  # one answer a chat at a time (its turn)

    async def request(self, chat_id: int, generation_id: str, user_id: int) -> bool:
        return False  # not running here means not running at all

    async def watch(
        self, chat_id: int, streaming: Streaming, stop: asyncio.Event, draft_id: int
    ) -> None:
        self._streaming[chat_id] = streaming
        try:
            await stop.wait()
        finally:
            if self._streaming.get(chat_id) == streaming:
                del self._streaming[chat_id]

    async def streaming(self, chat_id: int) -> Streaming | None:
        return self._streaming.get(chat_id)  # no suspension: the chat's order is kept

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
