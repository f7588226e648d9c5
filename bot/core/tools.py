"""Tools the model may call: the Tool port, results, per-chat choice and the history rules.

The assembler of streamed calls is in tool_calls.py, the runner of one round in tool_runner.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bot.core.budget import MESSAGE_OVERHEAD, estimate_tokens
from bot.core.models import ChatMessage, Lang, ToolCall

CallOutcome = Literal["ok", "error", "timeout", "bad_arguments", "unknown_tool", "refused"]
ALL_TOOLS = "*"


class ToolError(Exception):
    """A failure of a tool told to the model in these words (no place found, page not text...)."""


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """What the model is told about a tool: its name, purpose and JSON schema of arguments."""

    name: str
    description: str
    parameters: dict[str, Any]

    @classmethod
    def one_string(cls, name: str, description: str, argument: str) -> ToolSpec:
        """A tool taking one required string argument."""
        properties = {argument: {"type": "string"}}
        return cls(
            name, description, {"type": "object", "properties": properties, "required": [argument]}
        )

    def as_openai(self) -> dict[str, Any]:
        """One entry of the request's `tools` list."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


@dataclass(frozen=True, slots=True)
class StatusLine:
    """What the user sees while a call runs: a catalog key ("tool_get_weather": "🌦 Weather:
    {detail}…") and the call's detail (its place, expression, host...)."""

    key: str
    detail: str


class Texts(Protocol):
    """The catalogs: the text `key` in `lang` (the composition root passes telegram.texts.t)."""

    def __call__(self, key: str, lang: Lang, **values: object) -> str: ...


class Tool(Protocol):
    """A function the model can call. `run` may raise ToolError; the runner turns any failure,
    a timeout or a cancellation into words for the model or the stop of the turn. The spec's
    texts are the model's, in English; the status line's are the user's, in the catalogs."""

    @property
    def spec(self) -> ToolSpec: ...

    def status(self, args: Mapping[str, Any]) -> StatusLine:
        """What the user sees while the call runs, e.g. StatusLine("tool_get_weather", "Berlin")."""

    async def run(self, args: Mapping[str, Any]) -> str:
        """The result as text for the model."""


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What one call gave: the text the model gets back, how it ended, how long it took."""

    call: ToolCall
    content: str
    outcome: CallOutcome
    seconds: float
    tokens: int | None = None  # of `content`, when already estimated

    def as_message(self) -> ChatMessage:
        """The `tool` history message answering the call."""
        tokens = estimate_tokens(self.content) if self.tokens is None else self.tokens
        return ChatMessage(
            "tool", self.content, tokens + MESSAGE_OVERHEAD, tool_call_id=self.call.id
        )


def short(value: object, limit: int = 48) -> str:
    """An argument as shown in a status line: one line, at most `limit` characters."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def tool_call_message(text: str, calls: Sequence[ToolCall]) -> ChatMessage:
    """The assistant message that asked for `calls` (with any text said before them)."""
    payload = json.dumps([call.as_openai() for call in calls], ensure_ascii=False)
    tokens = estimate_tokens(text) + estimate_tokens(payload) + MESSAGE_OVERHEAD
    return ChatMessage("assistant", text, tokens, tool_calls=tuple(calls))


def fit_tokens(text: str, budget: int) -> tuple[str, int]:
    """`text` cut to `budget` estimated tokens (with a note of the cut), and its tokens.

    Only a window of the text is estimated: no character costs less than a tenth of a token,
    so what lies beyond budget * 10 characters is cut in any case. A 2 MiB page costs no more
    than a short one.
    """
    window = text[: budget * 10 + 1]
    total = estimate_tokens(window)
    if total <= budget and len(window) == len(text):
        return text, total
    note = "\n[…truncated: {} of {} characters shown]"
    room = max(budget - estimate_tokens(note.format(len(text), len(text))), 0)
    end = min(int(len(window) * room / max(total, 1)), len(window))
    while end > 0 and estimate_tokens(text[:end]) > room:
        end = int(end * 0.9)
    cut = text[:end] + note.format(end, len(text))
    return cut, estimate_tokens(cut)


def keep_tool_pairs(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """`messages` without broken tool exchanges, for the request after trimming or a Stop.

    An assistant message with tool_calls is kept only with a `tool` result for each of its calls
    following it; a `tool` message is kept only after its call. Without this the API refuses
    the request ("tool_calls must be followed by tool messages"). Pure; keeps order.
    """
    drop: set[int] = set()
    index = 0
    while index < len(messages):
        message = messages[index]
        if message.role == "tool":
            drop.add(index)  # not right after its call: an orphan
            index += 1
            continue
        if not message.tool_calls:
            index += 1
            continue
        wanted = {call.id for call in message.tool_calls}
        end = index + 1
        while end < len(messages) and messages[end].role == "tool":
            end += 1
        answered = {messages[i].tool_call_id for i in range(index + 1, end)}
        if not wanted <= answered:
            drop.update(range(index, end))
        else:
            drop.update(i for i in range(index + 1, end) if messages[i].tool_call_id not in wanted)
        index = end
    return [message for i, message in enumerate(messages) if i not in drop]


class ToolSwitches(Protocol):
    """Per-chat on/off of tools, set by admins (stored by an adapter)."""

    async def switched_off(self, chat_id: int) -> frozenset[str]:
        """Names of the tools turned off in the chat; ALL_TOOLS ("*") when all are off."""

    async def set_switched_off(self, chat_id: int, names: frozenset[str]) -> None: ...


@dataclass(slots=True)
class MemoryToolSwitches:
    """ToolSwitches in memory (tests, a single process)."""

    off: dict[int, frozenset[str]] = field(default_factory=dict)

    async def switched_off(self, chat_id: int) -> frozenset[str]:
        return self.off.get(chat_id, frozenset())

    async def set_switched_off(self, chat_id: int, names: frozenset[str]) -> None:
        if names:
            self.off[chat_id] = names
        else:
            self.off.pop(chat_id, None)


class ToolRegistry:
    """The tools the bot offers (built-ins and MCP), and which of them a chat gets."""

    def __init__(self, tools: Sequence[Tool], switches: ToolSwitches | None = None) -> None:
        self._tools = {tool.spec.name: tool for tool in tools}
        self._switches = switches or MemoryToolSwitches()

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def add(self, tools: Sequence[Tool]) -> list[Tool]:
        """Offer more tools from now on (an MCP server's, once it is ready); a name already
        offered is skipped. Returns the tools added."""
        added = [tool for tool in tools if tool.spec.name not in self._tools]
        self._tools.update((tool.spec.name, tool) for tool in added)
        return added

    async def for_chat(self, chat_id: int) -> dict[str, Tool]:
        """The tools on in the chat by name; empty when tools are off there (or everywhere)."""
        if not self._tools:
            return {}
        off = await self._switches.switched_off(chat_id)
        if ALL_TOOLS in off:
            return {}
        return {name: tool for name, tool in self._tools.items() if name not in off}

    async def switch(self, chat_id: int, on: bool, name: str = ALL_TOOLS) -> bool:
        """Turn one tool (or all, by default) on or off in a chat. False for an unknown name."""
        if name != ALL_TOOLS and name not in self._tools:
            return False
        off = set(await self._switches.switched_off(chat_id))
        if name == ALL_TOOLS:
            off = set() if on else {ALL_TOOLS}
        elif on:
            off.discard(name)
            if ALL_TOOLS in off:
                off = set(self._tools) - {name}
        elif ALL_TOOLS not in off:
            off.add(name)
        await self._switches.set_switched_off(chat_id, frozenset(off))
        return True


def tool_specs(tools: Mapping[str, Tool]) -> list[dict[str, Any]]:
    """The request's `tools` parameter for these tools (None-worthy when empty: check first)."""
    return [tool.spec.as_openai() for tool in tools.values()]
