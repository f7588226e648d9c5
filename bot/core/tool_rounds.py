"""The tool part of one turn: which tools a request offers, the rounds run, the messages kept.

A turn's loop (bot.core.generation) asks it which tools a round offers, runs a round's calls
and keeps the calls' and results' messages, which the turn stores with its answer.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from bot.core.budget import estimate_tokens
from bot.core.models import ChatMessage, Lang, ToolCall
from bot.core.tool_runner import ToolRunner, status_of
from bot.core.tools import Texts, Tool, ToolRegistry, ToolResult, tool_call_message, tool_specs

ROUND_LIMIT_TEXT = (
    "Error: the limit of {limit} tool rounds for this message is reached; the call was not "
    "run. Answer now with what you have."
)
# What proxies and servers answer when a request's `tools` is not accepted.
_TOOLS_REJECTED = re.compile(
    r"feature tools? is currently rejected|unrecognized request argument supplied: tools"
    r"|extra inputs are not permitted.{0,40}tools|tools? (?:are|is) not supported"
    r"|does not support tools|tool choice requires|unknown (?:parameter|field).{0,20}tools",
    re.IGNORECASE | re.DOTALL,
)


def rejects_tools(status: int, body: object) -> bool:
    """Whether an error answer says the model or proxy does not take `tools` (then the request
    is sent again without them, and the model remembered as tool-less)."""
    return status in (400, 422) and bool(_TOOLS_REJECTED.search(str(body)))


class ToolRounds:
    """Counts and runs the tool rounds of one turn and keeps their history messages."""

    def __init__(
        self,
        runner: ToolRunner,
        tools: Mapping[str, Tool],
        max_rounds: int,
        texts: Texts,
        lang: Lang = "en",
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._runner = runner
        self._tools = dict(tools)
        self._max_rounds = max_rounds
        self._texts = texts
        self._lang = lang
        self._clock = clock
        self._specs = tool_specs(self._tools) if self._tools else None
        # What the `tools` parameter adds to a request's prompt (counted in the budget).
        self.spec_tokens = estimate_tokens(json.dumps(self._specs)) if self._specs else 0
        self.rounds = 0
        self.messages: list[ChatMessage] = []
        self.results: list[ToolResult] = []
        self.overhead: list[float] = []  # per round: seconds spent beyond the slowest tool

    def tools_param(self) -> list[dict[str, Any]] | None:
        """The request's `tools`: None when the chat has none or the round cap is reached,
        so the last request makes the model answer in words."""
        return self._specs if self.rounds < self._max_rounds else None

    def can_continue(self) -> bool:
        """Whether another round may run (at most max_rounds run, one more is answered with
        an error text so a model that ignores the cap still gets a reply for its calls)."""
        return self.rounds <= self._max_rounds and bool(self._tools)

    def status_lines(self, calls: Sequence[ToolCall]) -> list[str]:
        """One line per call for the user while the round runs, in the turn's language."""
        lines = status_of(calls, self._tools)
        return [self._texts(line.key, self._lang, detail=line.detail) for line in lines]

    def payload(self) -> list[dict[str, Any]]:
        """This turn's tool messages, in API shape, to append to the next request."""
        return [message.as_openai() for message in self.messages]

    async def run_round(self, text: str, calls: Sequence[ToolCall]) -> list[ChatMessage]:
        """Run one round (or refuse it past the cap); return and keep the new messages: the
        assistant message with the calls, then one `tool` message per call, in order."""
        started = self._clock()
        if self.rounds < self._max_rounds:
            results = await self._runner.run(calls, self._tools)
        else:
            refusal = ROUND_LIMIT_TEXT.format(limit=self._max_rounds)
            results = [ToolResult(call, refusal, "error", 0.0) for call in calls]
        self.rounds += 1
        new = [tool_call_message(text, calls), *(result.as_message() for result in results)]
        self.messages += new
        self.results += results
        slowest = max((result.seconds for result in results), default=0.0)
        self.overhead.append(max(self._clock() - started - slowest, 0.0))
        return new


class ToolSet(Protocol):
    """The tools a bot was started with: which a chat gets, how they run, the round cap."""

    registry: ToolRegistry
    runner: ToolRunner
    max_rounds: int

    async def aclose(self) -> None: ...


class ToolKit:
    """What a turn needs of the tools. Built by the composition root with how to open them;
    opened once at start-up, before updates are taken (MCP servers start then)."""

    def __init__(self, opener: Callable[[], Awaitable[ToolSet]], texts: Texts) -> None:
        self._opener = opener
        self._texts = texts
        self._set: ToolSet | None = None

    async def open(self) -> ToolSet:
        """Open the tools (once); the set opened."""
        if self._set is None:
            self._set = await self._opener()
        return self._set

    @property
    def registry(self) -> ToolRegistry | None:
        """The tools' registry (which a chat has on), once opened."""
        return self._set.registry if self._set is not None else None

    async def aclose(self) -> None:
        if self._set is not None:
            await self._set.aclose()

    async def rounds(
        self, chat_id: int, lang: Lang, only: tuple[str, ...] | None = None
    ) -> ToolRounds | None:
        """A turn's rounds in this chat, with those of its tools named in `only` (the chat's
        mode's; None: all); None when no tool is left (or none is open). A call to a tool left
        out is refused like an unknown tool."""
        box = self._set
        tools = await box.registry.for_chat(chat_id) if box is not None else None
        if tools and only is not None:
            tools = {name: tool for name, tool in tools.items() if name in only}
        if box is None or not tools:
            return None
        return ToolRounds(box.runner, tools, box.max_rounds, self._texts, lang)
