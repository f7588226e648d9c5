"""Answers being generated right now, so Stop buttons and stop updates can find them."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field

from bot.core.bounded import Recent


@dataclass(slots=True)
class Generation:
    id: str
    chat_id: int
    user_id: int
    draft_id: int
    stop: asyncio.Event = field(default_factory=asyncio.Event)


class Generations:
    """In-process registry of running generations and of answers that can be continued."""

    def __init__(self) -> None:
        self._running: dict[str, Generation] = {}
        self._continuable: Recent[int, str] = Recent()

    def start(self, chat_id: int, user_id: int) -> Generation:
        generation = Generation(
            id=secrets.token_hex(6),
            chat_id=chat_id,
            user_id=user_id,
            draft_id=secrets.randbelow(2**31 - 2) + 1,
        )
        self._running[generation.id] = generation
        self._continuable.pop(chat_id)
        return generation

    def end(self, generation: Generation, *, continuable: bool) -> None:
        self._running.pop(generation.id, None)
        if continuable:
            self._continuable[generation.chat_id] = generation.id

    def get(self, generation_id: str) -> Generation | None:
        return self._running.get(generation_id)

    def by_draft(self, chat_id: int, draft_id: int) -> Generation | None:
        for generation in self._running.values():
            if generation.chat_id == chat_id and generation.draft_id == draft_id:
                return generation
        return None

    def take_continuable(self, chat_id: int, generation_id: str) -> bool:
        """True once if `generation_id` is the chat's latest answer cut by the length limit."""
        if self._continuable.get(chat_id) != generation_id:
            return False
        self._continuable.pop(chat_id)
        return True

    @property
    def active(self) -> int:
        return len(self._running)
