"""Plain data of the conversation: messages, usage and stream events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]

Lang = str
"""A language with a catalog in bot/locales ("en", "ru", ...): the Telegram layer picks it."""


@dataclass(frozen=True, slots=True)
class ChatKey:
    """One conversation: a chat, and a topic inside it where topics exist."""

    chat_id: int
    thread_id: int | None = None


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One function call the model asked for; `arguments` is the model's JSON text, unparsed."""

    id: str
    name: str
    arguments: str

    def as_openai(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """A history entry with its token count, computed once when it was stored.

    An assistant message may carry the tool calls it asked for; a "tool" message answers the
    call `tool_call_id`.
    """

    role: Role
    content: str
    tokens: int
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    # The content as OpenAI content parts (a question with images), sent instead of `content`;
    # never stored: history keeps `content`.
    parts: tuple[dict[str, Any], ...] = ()
    # An answer's model and when it was given (Unix seconds), for /export; never sent.
    model: str = ""
    at: int = 0

    def as_openai(self) -> dict[str, Any]:
        content: str | list[dict[str, Any]] = list(self.parts) if self.parts else self.content
        message: dict[str, Any] = {"role": self.role, "content": content}
        if self.tool_calls:
            message["tool_calls"] = [call.as_openai() for call in self.tool_calls]
        if self.tool_call_id is not None:
            message["tool_call_id"] = self.tool_call_id
        return message


@dataclass(frozen=True, slots=True)
class Question:
    """One turn's question when what goes upstream differs from what history keeps: a
    document's full text (`sent`) and its bounded form (`kept`), an image and a note of it."""

    sent: ChatMessage
    kept: ChatMessage
    blind: ChatMessage | None = None  # sent instead of `sent` to a model that cannot see images


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )


@dataclass(frozen=True, slots=True)
class UsageTotals:
    today: Usage
    month: Usage
    all_time: Usage
    # Of today's and this month's tokens, those paid with Stars (not counted by the free quotas).
    paid_today: int = 0
    paid_month: int = 0


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True, slots=True)
class UsageReport:
    usage: Usage


FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "other"]


@dataclass(frozen=True, slots=True)
class Finished:
    reason: FinishReason


@dataclass(frozen=True, slots=True)
class ToolCallsRequested:
    """The model ended its round asking for these calls (sent just before Finished)."""

    calls: tuple[ToolCall, ...]


StreamEvent = TextDelta | ReasoningDelta | UsageReport | Finished | ToolCallsRequested


Outcome = Literal["complete", "length", "stopped", "interrupted", "shut_down", "timed_out"]


@dataclass(frozen=True, slots=True)
class Reply:
    """What one turn produced: the visible answer, how it ended, and what it cost."""

    text: str
    reasoning: str
    outcome: Outcome
    usage: Usage
    usage_estimated: bool


AccessState = Literal["allow", "block"]


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """Admins' decisions about one user and one chat, and the user's quota overrides."""

    user: AccessState | None = None
    chat: AccessState | None = None
    daily_quota: int | None = None
    monthly_quota: int | None = None


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """What a turn reads of a chat's settings, in one round trip: the admins' default model, the
    chat's own model and system prompt (with its token count) and its mode (None: not chosen)."""

    default_model: str | None = None
    chat_model: str | None = None
    system: ChatMessage | None = None
    mode: str | None = None


@dataclass(frozen=True, slots=True)
class PeriodStats:
    """The bot's usage in one period: totals, per model, top users and chats, active users."""

    period: str
    usage: Usage
    requests: int
    active_users: int
    models: dict[str, Usage]
    top_users: list[tuple[int, int]]
    top_chats: list[tuple[int, int]]
