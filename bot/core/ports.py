"""Protocols the core depends on; adapters implement them."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from datetime import datetime
from typing import Protocol

from bot.core.models import ChatKey, ChatMessage, Reply, StreamEvent, Usage, UsageTotals


class HistoryStore(Protocol):
    async def load(self, chat: ChatKey) -> list[ChatMessage]:
        """Return the chat's history, oldest first."""
        ...

    async def append(self, chat: ChatKey, messages: Sequence[ChatMessage], keep: int) -> None:
        """Append messages, then keep only the newest `keep` entries."""
        ...

    async def replace_last(self, chat: ChatKey, message: ChatMessage) -> None:
        """Replace the newest entry (a continued answer grows in place)."""
        ...

    async def clear(self, chat: ChatKey) -> None: ...


class UsageStore(Protocol):
    async def add(
        self, user_id: int, model: str, usage: Usage, at: datetime, group_id: int | None = None
    ) -> None:
        """Count a reply's usage for the user, and the group if any, in one round trip."""
        ...

    async def totals(self, user_id: int, at: datetime) -> UsageTotals: ...

    async def group_totals(self, group_id: int, at: datetime) -> UsageTotals: ...


class ReplySink(Protocol):
    """Shows one reply to the user as it is generated. Pacing is the sink's business."""

    async def started(self) -> None:
        """The request went upstream: show that the bot is thinking."""
        ...

    def update(self, text: str, reasoning: str) -> None:
        """New accumulated answer and reasoning; must return at once (no I/O on the caller)."""
        ...

    async def finish(self, reply: Reply) -> None:
        """Deliver the final, complete answer (or the partial one, marked as stopped/cut)."""
        ...


class LLMGateway(Protocol):
    def stream(
        self, model: str, messages: Sequence[dict[str, str]], max_tokens: int
    ) -> AsyncGenerator[StreamEvent, None]:
        """Stream a chat completion. Closing the iterator closes the HTTP response."""
        ...
