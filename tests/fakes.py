"""In-memory implementations of the core's ports, for tests between the units and the e2e."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.models import (
    AccessRecord,
    AccessState,
    ChatKey,
    ChatMessage,
    Finished,
    FinishReason,
    Reply,
    StreamEvent,
    TextDelta,
    Usage,
    UsageReport,
    UsageTotals,
)


class MemoryHistory:
    def __init__(self) -> None:
        self.chats: dict[ChatKey, list[ChatMessage]] = defaultdict(list)

    async def load(self, chat: ChatKey) -> list[ChatMessage]:
        return list(self.chats[chat])

    async def append(self, chat: ChatKey, messages: Sequence[ChatMessage], keep: int) -> None:
        self.chats[chat] = [*self.chats[chat], *messages][-keep:]

    async def replace(self, chat: ChatKey, index: int, message: ChatMessage) -> None:
        self.chats[chat][index] = message

    async def clear(self, chat: ChatKey) -> None:
        self.chats.pop(chat, None)


@dataclass
class Counted:
    user_id: int
    model: str
    usage: Usage
    group_id: int | None
    chat_id: int | None


class MemoryUsage:
    """Counts every add; the totals are the sum of all of them (one period is enough here)."""

    def __init__(self) -> None:
        self.added: list[Counted] = []

    async def add(
        self,
        user_id: int,
        model: str,
        usage: Usage,
        at: datetime,
        group_id: int | None = None,
        chat_id: int | None = None,
    ) -> None:
        self.added.append(Counted(user_id, model, usage, group_id, chat_id))

    def _sum(self, owner: int, group: bool) -> UsageTotals:
        total = Usage()
        for entry in self.added:
            if (entry.group_id if group else entry.user_id) == owner:
                total = total + entry.usage
        return UsageTotals(total, total, total)

    async def totals(self, user_id: int, at: datetime) -> UsageTotals:
        return self._sum(user_id, group=False)

    async def group_totals(self, group_id: int, at: datetime) -> UsageTotals:
        return self._sum(group_id, group=True)


@dataclass
class MemoryAccess:
    users: dict[int, AccessState] = field(default_factory=dict)
    chats: dict[int, AccessState] = field(default_factory=dict)
    quotas: dict[int, tuple[int | None, int | None]] = field(default_factory=dict)
    hits: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))

    async def record(self, user_id: int, chat_id: int) -> AccessRecord:
        daily, monthly = self.quotas.get(user_id, (None, None))
        return AccessRecord(self.users.get(user_id), self.chats.get(chat_id), daily, monthly)

    async def set_user(self, user_id: int, state: AccessState | None) -> None:
        _set(self.users, user_id, state)

    async def set_chat(self, chat_id: int, state: AccessState | None) -> None:
        _set(self.chats, chat_id, state)

    async def set_quota(self, user_id: int, daily: int | None, monthly: int | None) -> None:
        self.quotas[user_id] = (daily, monthly)

    async def flood_hit(self, user_id: int, now: float, window: float) -> tuple[int, float]:
        hits = [t for t in self.hits[user_id] if t > now - window] + [now]
        self.hits[user_id] = hits
        return len(hits), hits[0]


def _set(states: dict[int, AccessState], key: int, state: AccessState | None) -> None:
    if state is None:
        states.pop(key, None)
    else:
        states[key] = state


class ScriptedGateway:
    """Streams the queued answers, one per call, word by word; `delay` between words."""

    def __init__(
        self, *answers: str | Exception, delay: float = 0.0, finish: FinishReason = "stop"
    ) -> None:
        self.answers: list[str | Exception] = list(answers)
        self.delay = delay
        self.finish: FinishReason = finish
        self.calls: list[tuple[str, list[dict[str, str]]]] = []

    async def stream(
        self, model: str, messages: Sequence[dict[str, str]], max_tokens: int
    ) -> AsyncGenerator[StreamEvent, None]:
        self.calls.append((model, list(messages)))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        words = answer.split(" ")
        for index, word in enumerate(words):
            await asyncio.sleep(self.delay)
            yield TextDelta(word if index == 0 else " " + word)
        yield UsageReport(Usage(10, len(words)))
        yield Finished(self.finish)


class RecordingSink:
    def __init__(self) -> None:
        self.updates: list[str] = []
        self.finished: Reply | None = None
        self.first_text = asyncio.Event()

    async def started(self) -> None:
        pass

    def update(self, text: str, reasoning: str) -> None:
        self.updates.append(text)
        self.first_text.set()

    async def finish(self, reply: Reply) -> None:
        self.finished = reply
