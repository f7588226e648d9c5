"""In-memory implementations of the core's ports, for tests between the units and the e2e."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.conversation import ConversationConfig, ConversationService
from bot.core.generation import Generator
from bot.core.model_choice import ModelResolver
from bot.core.models import (
    AccessRecord,
    AccessState,
    ChatKey,
    ChatMessage,
    Finished,
    FinishReason,
    Lang,
    Question,
    Reply,
    StreamEvent,
    TextDelta,
    Usage,
    UsageReport,
    UsageTotals,
)
from bot.core.monitor import Monitor
from bot.core.ports import HistoryStore, LLMGateway, ReplySink, UsageStore
from bot.core.quota import Attempt, AttemptResult, Hold, QuotaLimits, QuotaUse
from bot.core.tool_rounds import ToolKit
from bot.core.tool_runner import ToolRunner
from bot.core.tools import Tool, ToolRegistry
from bot.core.turns import Ask, Continue, TurnRequest, Turns
from bot.telegram.texts import t


class MemoryHistory:
    def __init__(self) -> None:
        self.chats: dict[ChatKey, list[ChatMessage]] = defaultdict(list)
        self.loads = 0  # whole histories read

    async def load(self, chat: ChatKey) -> list[ChatMessage]:
        self.loads += 1
        return list(self.chats[chat])

    async def size(self, chat: ChatKey) -> int:
        return len(self.chats[chat])

    async def append(
        self, chat: ChatKey, messages: Sequence[ChatMessage], keep: int, drop: int = 0
    ) -> None:
        kept = self.chats[chat][: max(0, len(self.chats[chat]) - drop)]
        self.chats[chat] = [*kept, *messages][-keep:] if messages else kept

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
        temperature: float | None = None,
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


def make_turns(
    gateway: LLMGateway,
    history: HistoryStore | None = None,
    usage: UsageStore | None = None,
    *,
    config: ConversationConfig | None = None,
    models: ModelResolver | None = None,
    monitor: Monitor | None = None,
    tools: ToolKit | None = None,
    vision_models: tuple[str, ...] | None = None,
) -> Turns:
    """The turn use case on in-memory ports (the model "m" unless `models` says otherwise)."""
    from tests.unit.test_model_choice import Catalog, Store

    history = history if history is not None else MemoryHistory()
    usage = usage if usage is not None else MemoryUsage()
    config = config or ConversationConfig(
        system_prompt="Be brief.", token_budget=4000, max_tokens=200
    )
    chats = ConversationService(history, usage, config)
    models = models or ModelResolver(Catalog(["m"]), Store(), "m")
    generator = Generator(gateway, config, monitor)
    return Turns(history, usage, chats, models, generator, tools=tools, vision_models=vision_models)


async def ask(
    turns: Turns,
    chat: ChatKey,
    user_id: int,
    question: str | Question,
    model: str,
    sink: ReplySink,
    stop: asyncio.Event,
    quota: QuotaLimits | None = None,
    lang: Lang = "en",
) -> Reply:
    """One question answered by `model` (no fallback); its reply."""
    request = TurnRequest(chat, user_id, lang, Ask(question), quota=quota)
    done = await turns.answer(request, model, sink, stop)
    assert done is not None  # a question always has a reply
    return done[0]


async def go_on(
    turns: Turns, chat: ChatKey, user_id: int, model: str, sink: ReplySink, stop: asyncio.Event
) -> Reply | None:
    """Continue the chat's last answer with `model`; None when there is none to continue."""
    done = await turns.answer(TurnRequest(chat, user_id, "en", Continue()), model, sink, stop)
    return None if done is None else done[0]


async def open_toolkit(registry: ToolRegistry, runner: ToolRunner, max_rounds: int) -> ToolKit:
    """A ToolKit opened on these tools (as App.open_tools opens the bot's at start-up)."""
    from bot.adapters.tools.factory import Toolbox

    async def opener() -> Toolbox:
        return Toolbox(registry, runner, max_rounds, None, None)

    kit = ToolKit(opener, t)
    await kit.open()
    return kit


def shown(tool: Tool, args: Mapping[str, Any], lang: Lang) -> str:
    """The status line the user sees while `tool` runs with `args`, in `lang`."""
    line = tool.status(args)
    return t(line.key, lang, detail=line.detail)
