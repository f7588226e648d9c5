"""In-memory implementations of the core's ports, for tests between the units and the e2e."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
from bot.core.quota import Attempt, AttemptResult, Hold, QuotaLimits, QuotaUse


class MemoryHistory:
    def __init__(self) -> None:
        self.chats: dict[ChatKey, list[ChatMessage]] = defaultdict(list)
        self.loads = 0  # whole histories read

    async def load(self, chat: ChatKey) -> list[ChatMessage]:
        self.loads += 1
        return list(self.chats[chat])

    async def size(self, chat: ChatKey) -> int:
        return len(self.chats[chat])

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
    """Counts every add; the totals are the sum of all of them (one period is enough here).
    Quota holds are kept until settled by `add(..., hold=)` or released."""

    def __init__(self) -> None:
        self.added: list[Counted] = []
        self.holds: dict[str, Hold] = {}

    async def add(
        self,
        user_id: int,
        model: str,
        usage: Usage,
        at: datetime,
        group_id: int | None = None,
        chat_id: int | None = None,
        hold: Hold | None = None,
    ) -> None:
        self.added.append(Counted(user_id, model, usage, group_id, chat_id))
        if hold is not None:
            self.holds.pop(hold.hold_id, None)

    def use(self, owner: int) -> QuotaUse:
        """Tokens used (one period for both) plus live holds."""
        used = self._sum(owner, group=False).today.total_tokens
        held = sum(h.amount for h in self.holds.values() if h.owner_id == owner)
        return QuotaUse(used + held, used + held)

    async def reserve(self, owner_id: int, limits: QuotaLimits, amount: int, at: datetime) -> Hold:
        use = self.use(owner_id)
        left = amount
        for period, limit, used in (
            ("day", limits.daily, use.day),
            ("month", limits.monthly, use.month),
        ):
            if limit:
                if used >= limit:
                    return Hold(owner_id, "", 0, period)  # type: ignore[arg-type]
                left = min(left, limit - used)
        hold = Hold(owner_id, f"h{len(self.holds) + len(self.added)}", left)
        self.holds[hold.hold_id] = hold
        return hold

    async def release(self, hold: Hold) -> None:
        self.holds.pop(hold.hold_id, None)

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
    """Admins' decisions, flood attempts and told refusals; quota use is read from `usage`."""

    usage: MemoryUsage = field(default_factory=MemoryUsage)
    users: dict[int, AccessState] = field(default_factory=dict)
    chats: dict[int, AccessState] = field(default_factory=dict)
    quotas: dict[int, tuple[int | None, int | None]] = field(default_factory=dict)
    hits: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    told: dict[tuple[int, str], float] = field(default_factory=dict)

    async def record(self, user_id: int, chat_id: int) -> AccessRecord:
        daily, monthly = self.quotas.get(user_id, (None, None))
        return AccessRecord(self.users.get(user_id), self.chats.get(chat_id), daily, monthly)

    async def set_user(self, user_id: int, state: AccessState | None) -> None:
        _set(self.users, user_id, state)

    async def set_chat(self, chat_id: int, state: AccessState | None) -> None:
        _set(self.chats, chat_id, state)

    async def set_quota(self, user_id: int, daily: int | None, monthly: int | None) -> None:
        self.quotas[user_id] = (daily, monthly)

    async def attempt(self, attempt: Attempt) -> AttemptResult:
        now, window = attempt.now, attempt.window
        hits = [t for t in self.hits[attempt.actor_id] if t > now - window] + [now]
        self.hits[attempt.actor_id] = hits
        use = self.usage.use(attempt.actor_id)
        refusal = attempt.refusal
        if not refusal and attempt.flood_limit and len(hits) > attempt.flood_limit:
            refusal = "slow_down"
        limits = attempt.limits
        if not refusal and limits is not None:
            if limits.daily and use.day >= limits.daily:
                refusal = "quota_day"
            elif limits.monthly and use.month >= limits.monthly:
                refusal = "quota_month"
        tell = False
        if refusal:
            last = self.told.get((attempt.chat_id, refusal))
            tell = last is None or now - last >= window
            if tell:
                self.told[(attempt.chat_id, refusal)] = now
        return AttemptResult(len(hits), hits[0], use, refusal, tell)


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
        self.calls: list[tuple[str, list[dict[str, Any]]]] = []

    async def stream(
        self,
        model: str,
        messages: Sequence[dict[str, Any]],
        max_tokens: int,
        tools: Sequence[dict[str, Any]] | None = None,
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
        self.tool_lines: list[list[str]] = []
        self.finished: Reply | None = None
        self.first_text = asyncio.Event()

    async def started(self) -> None:
        pass

    def update(self, text: str, reasoning: str) -> None:
        self.updates.append(text)
        self.first_text.set()

    def tool_status(self, lines: Sequence[str]) -> None:
        self.tool_lines.append(list(lines))

    async def finish(self, reply: Reply) -> None:
        self.finished = reply
