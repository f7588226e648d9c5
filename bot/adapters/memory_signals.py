"""Stop and Continue signals for one process: no other replica to tell, nothing to share."""

from __future__ import annotations

import asyncio
from collections import OrderedDict


class LocalSignals:
    """The in-memory ReplicaSignals: a press always reaches the process that generates."""

    def __init__(self, remember: int = 10_000) -> None:
        self._continuable: OrderedDict[int, str] = OrderedDict()
        self._remember = remember

    async def request(self, chat_id: int, generation_id: str, user_id: int) -> bool:
        return False  # not running here means not running at all

    async def watch(
        self, chat_id: int, generation_id: str, user_id: int, stop: asyncio.Event, draft_id: int
    ) -> None:
        await stop.wait()

    async def set_continuable(self, chat_id: int, generation_id: str | None) -> None:
        if generation_id is None:
            self._continuable.pop(chat_id, None)
        else:
            self._continuable[chat_id] = generation_id
            self._continuable.move_to_end(chat_id)
            if len(self._continuable) > self._remember:
                self._continuable.popitem(last=False)  # the oldest cut answer

    async def take_continuable(self, chat_id: int, generation_id: str) -> bool:
        if self._continuable.get(chat_id) != generation_id:
            return False
        del self._continuable[chat_id]
        return True
