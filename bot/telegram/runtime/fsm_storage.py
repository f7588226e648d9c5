"""aiogram's FSM storage for a bot that keeps no conversation state in aiogram.

The dispatcher's default `MemoryStorage` is a defaultdict: every update's state look-up adds a
record for its (chat, user) and nothing removes it, one entry per chat seen for ever (the bot's
own state lives in its store). Here a look-up creates nothing, an empty record is dropped, and
what is set lives in a `Recent` of at most `size` keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from bot.core.bounded import Recent


class BoundedStorage(BaseStorage):
    """FSM state and data per key, for the newest `size` keys that have any."""

    def __init__(self, size: int = 10_000) -> None:
        self._states: Recent[StorageKey, str] = Recent(size)
        self._data: Recent[StorageKey, dict[str, Any]] = Recent(size)

    @property
    def records(self) -> int:
        """Keys with a state plus keys with data (not `__len__`: aiogram takes an empty
        storage for none and puts its own in place)."""
        return len(self._states) + len(self._data)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        if value is None:
            self._states.pop(key)
        else:
            self._states[key] = value

    async def get_state(self, key: StorageKey) -> str | None:
        return self._states.get(key)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if data:
            self._data[key] = dict(data)
        else:
            self._data.pop(key)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return dict(self._data.get(key) or {})

    async def close(self) -> None:
        return None
