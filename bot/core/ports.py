"""Protocols the core depends on; adapters implement them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot.core.models import (
    AccessRecord,
    AccessState,
    ChatKey,
    ChatMessage,
    ChatSettings,
    PeriodStats,
    Reply,
    StreamEvent,
    Usage,
    UsageTotals,
)
from bot.core.quota import Attempt, AttemptResult, Hold, QuotaLimits
from bot.core.stop import Streaming

if TYPE_CHECKING:
    from bot.core.redo import Asked
    from bot.core.variants import AnswerVariants


class HistoryStore(Protocol):
    async def load(self, chat: ChatKey) -> list[ChatMessage]:
        """Return the chat's history, oldest first."""

    async def append(
        self, chat: ChatKey, messages: Sequence[ChatMessage], keep: int, drop: int = 0
    ) -> None:
        """Remove the newest `drop` entries (an answer replaced), append messages, then keep
        only the newest `keep` entries: one transaction."""

    async def replace(self, chat: ChatKey, index: int, message: ChatMessage) -> None:
        """Replace one message; `index` counts from the end (-1: the last)."""

    async def size(self, chat: ChatKey) -> int:
        """How many entries the chat's history holds (none read)."""

    async def clear(self, chat: ChatKey) -> None: ...


class QuestionStore(Protocol):
    """The chat's answered questions by message (bot.core.redo), kept as long as history."""

    async def questions(self, chat: ChatKey) -> list[Asked]: ...

    async def save_questions(self, chat: ChatKey, asked: Sequence[Asked]) -> None: ...

    async def add_question(self, chat: ChatKey, asked: Asked, keep: int) -> None:
        """Add an answered question, newest, in place of the same message's and those after it,
        keeping the newest `keep`; one round trip (no read first)."""
        ...


class VariantStore(Protocol):
    """The chat's last answer and its variants (bot.core.variants), kept as long as history."""

    async def load(self, chat: ChatKey) -> AnswerVariants | None: ...

    async def save(self, chat: ChatKey, variants: AnswerVariants) -> None: ...

    async def save_answered(
        self, chat: ChatKey, variants: AnswerVariants, asked: Asked, keep: int
    ) -> None:
        """`save`, and `QuestionStore.add_question` for the question it answered, in one round
        trip."""
        ...


class ModeStore(Protocol):
    """The chat's mode id (bot.core.modes), kept as long as its settings; None: the default."""

    async def mode(self, chat: ChatKey) -> str | None: ...

    async def set_mode(self, chat: ChatKey, mode_id: str | None) -> None: ...


class UsageStore(Protocol):
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
        """Count a reply's usage for the user, the group if any, the model and the bot's totals
        (top users and chats), and settle the turn's hold, in one round trip."""

    async def totals(self, user_id: int, at: datetime) -> UsageTotals: ...

    async def reserve(self, owner_id: int, limits: QuotaLimits, amount: int, at: datetime) -> Hold:
        """Atomically hold up to `amount` tokens of what is left of the owner's quotas (amount
        0 and the used-up period when nothing is left); `add(..., hold=)` settles it."""

    async def release(self, hold: Hold) -> None:
        """Give back a hold whose turn spent nothing (failed before the answer)."""

    async def group_totals(self, group_id: int, at: datetime) -> UsageTotals: ...


class ReplySink(Protocol):
    """Shows one reply to the user as it is generated. Pacing is the sink's business."""

    async def started(self) -> None:
        """The request went upstream: show that the bot is thinking."""

    def update(self, text: str, reasoning: str) -> None:
        """New accumulated answer and reasoning; must return at once (no I/O on the caller)."""

    def tool_status(self, lines: Sequence[str]) -> None:
        """Tools run now: one short line per call ("🌦 Weather: Berlin…") to show until the
        answer text goes on; must return at once. The lines are never part of the answer."""

    async def finish(self, reply: Reply) -> None:
        """Deliver the final, complete answer (or the partial one, marked as stopped/cut)."""


class LLMGateway(Protocol):
    def stream(
        self,
        model: str,
        messages: Sequence[dict[str, Any]],
        max_tokens: int,
        tools: Sequence[dict[str, Any]] | None = None,
        temperature: float | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        """Stream a chat completion. Closing the iterator closes the HTTP response. With
        `tools`, a round of calls ends with ToolCallsRequested then Finished("tool_calls");
        a model that rejects tools is asked again without them (and remembered). `temperature`
        is this request's (a chat's mode); None: the gateway's own (TEMPERATURE)."""


class StatsStore(Protocol):
    async def stats(self, at: datetime, top: int) -> list[PeriodStats]:
        """The bot's totals for today, this month and all time, in one round trip."""


class ModelCatalog(Protocol):
    async def models(self) -> list[str]:
        """The live model list (cached briefly); raises UpstreamError when it cannot be read."""

    def invalidate(self) -> None:
        """Forget the cached list: the next call reads it again."""

    async def health(self) -> bool:
        """Whether the upstream answers its health check."""


class ModelStore(Protocol):
    async def chosen(self, chat_id: int) -> tuple[str | None, str | None]:
        """The default model set by admins and the chat's own model, in one round trip."""

    async def set_default(self, model: str | None) -> None: ...

    async def set_chat(self, chat_id: int, model: str | None) -> None: ...


class ChatSettingsStore(Protocol):
    async def settings(self, chat: ChatKey) -> ChatSettings:
        """The chat's settings a turn reads (ModelStore.chosen, PromptStore.system_prompt and
        ModeStore.mode together), in one round trip."""
        ...


class PromptStore(Protocol):
    """What the model is given for a chat besides its history."""

    async def system_prompt(self, chat_id: int) -> ChatMessage | None:
        """The chat's own system prompt with its stored token count, or None for the default."""

    async def set_system_prompt(self, chat_id: int, message: ChatMessage | None) -> None: ...

    async def keeps_context(self, chat_id: int) -> bool:
        """Whether a group keeps messages not addressed to the bot as context (off by default)."""

    async def set_keeps_context(self, chat_id: int, on: bool) -> None: ...


class AccessStore(Protocol):
    async def record(self, user_id: int, chat_id: int) -> AccessRecord:
        """What admins decided about the user and the chat, in one round trip."""

    async def set_user(self, user_id: int, state: AccessState | None) -> None: ...

    async def set_chat(self, chat_id: int, state: AccessState | None) -> None: ...

    async def set_quota(self, user_id: int, daily: int | None, monthly: int | None) -> None:
        """Per-user quota overrides; None removes an override."""

    async def attempt(self, attempt: Attempt) -> AttemptResult:
        """Count the attempt for flood control, read the quota use, decide the refusal (the
        one given, else flood, else quota) and whether it is to be told, in one round trip."""


class AdminAlerts(Protocol):
    """A private message to the bot's admins when the upstream refuses the bot itself."""

    async def upstream_failed(self, kind: str) -> bool:
        """Tell the admins (at most once per interval per `kind`: "auth", "balance").

        True when they have been told: by this call or by one within the interval."""


class ReplicaSignals(Protocol):
    """What the Stop and Continue buttons, and a redo that stops the answer streaming first,
    need across processes: a press or an edit may reach a replica other than the one generating
    the answer. One process uses an in-memory implementation."""

    async def request(self, chat_id: int, generation_id: str, user_id: int) -> bool:
        """Ask whichever process runs `generation_id` to stop it; True only when `user_id` is
        the author of that running answer."""

    async def watch(
        self, chat_id: int, streaming: Streaming, stop: asyncio.Event, draft_id: int
    ) -> None:
        """Set `stop` when the author asks for it anywhere (runs until cancelled or stopped);
        meanwhile `streaming` is what the chat streams now, for every process."""

    async def streaming(self, chat_id: int) -> Streaming | None:
        """What the chat streams now, in whichever process (None: nothing)."""

    async def set_continuable(self, chat_id: int, generation_id: str | None) -> None:
        """Remember the chat's answer that Continue may extend (None: there is none now)."""

    async def take_continuable(self, chat_id: int, generation_id: str) -> bool:
        """True once if `generation_id` is the chat's continuable answer."""


class ChatOrder(Protocol):
    """Runs each chat's updates one at a time, in order, and drops redelivered updates."""

    async def admit(self, update_id: int, chat_id: int | None) -> bool:
        """False for an update already taken; `chat_id` also queues it in its chat."""

    async def run(
        self,
        chat_id: int,
        update_id: int,
        call: Callable[[], Awaitable[Any]],
        *,
        admitted: bool = True,
    ) -> Any:
        """Run `call` in the chat's turn; None without running it for a redelivery."""
