"""Running one round of tool calls: concurrently, each with a timeout, never raising."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.models import ToolCall
from bot.core.tools import (
    CallOutcome,
    StatusLine,
    Tool,
    ToolError,
    ToolResult,
    fit_tokens,
    short,
)

log = logging.getLogger(__name__)

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


@dataclass(frozen=True, slots=True)
class ToolLimits:
    """TOOL_TIMEOUT per call, TOOL_RESULT_TOKENS per result, TOOL_MAX_CALLS_PER_ROUND."""

    timeout: float = 15.0
    result_tokens: int = 1500
    max_calls: int = 8


class BadArguments(Exception):
    """The call's arguments are not the JSON object its schema asks for."""


class ToolRunner:
    """Runs the calls of one round concurrently and turns every outcome into a ToolResult.

    An error, a timeout, unparsable arguments or an unknown name become that call's result, in
    words the model can act on, and a log line. Cancelling `run` (Stop) cancels every running
    tool, waits for them to end and re-raises CancelledError.
    """

    def __init__(self, limits: ToolLimits, clock: Callable[[], float] = time.perf_counter) -> None:
        self._limits = limits
        self._clock = clock

    async def run(self, calls: Sequence[ToolCall], tools: Mapping[str, Tool]) -> list[ToolResult]:
        """The results of `calls`, in their order; the calls beyond `max_calls` are not run:
        each is answered as refused."""
        allowed = self._limits.max_calls
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(self._one(call, tools)) for call in calls[:allowed]]
        refused = [self._refused(call) for call in calls[allowed:]]
        if refused:
            log.warning("tool calls refused count=%d max=%d", len(refused), allowed)
        return [task.result() for task in tasks] + refused

    def _refused(self, call: ToolCall) -> ToolResult:
        content = (
            f"Error: not run. At most {self._limits.max_calls} tool calls run in one round; "
            "make fewer calls, only those the answer needs."
        )
        return ToolResult(
            call, content, "refused", 0.0, fit_tokens(content, self._limits.result_tokens)[1]
        )

    async def _one(self, call: ToolCall, tools: Mapping[str, Tool]) -> ToolResult:
        started = self._clock()
        content, outcome = await self._outcome(call, tools)
        seconds = self._clock() - started
        limited, tokens = fit_tokens(content, self._limits.result_tokens)
        log.info(
            "tool call name=%s outcome=%s ms=%.1f chars=%d truncated=%s",
            short(call.name, 64),
            outcome,
            seconds * 1000,
            len(content),
            limited is not content,
        )
        return ToolResult(call, limited, outcome, seconds, tokens)

    async def _outcome(self, call: ToolCall, tools: Mapping[str, Tool]) -> tuple[str, CallOutcome]:
        tool = tools.get(call.name)
        if tool is None:
            names = ", ".join(tools) or "none"
            return (
                f"Error: there is no tool named {short(call.name, 64)!r}. Available tools: {names}.",
                "unknown_tool",
            )
        try:
            args = parse_arguments(call, tool)
        except BadArguments as exc:
            return (
                f"Error: bad arguments for {call.name}: {exc}. Call it again with valid JSON "
                "arguments matching its schema.",
                "bad_arguments",
            )
        timeout = self._limits.timeout
        try:
            async with asyncio.timeout(timeout) as deadline:
                return await tool.run(args), "ok"
        except ToolError as exc:
            return f"Error: {exc}", "error"
        except TimeoutError:
            if deadline.expired():
                return (
                    f"Error: {call.name} did not finish within {timeout:g} seconds and was "
                    "stopped. Do not retry it now; answer with what you know, and say so.",
                    "timeout",
                )
            log.warning("tool error name=%s error=TimeoutError", call.name)
            return f"Error: {call.name} failed: a network request timed out.", "error"
        except Exception as exc:
            log.warning("tool error name=%s error=%s", call.name, type(exc).__name__)
            return f"Error: {call.name} failed ({type(exc).__name__}).", "error"


def status_of(calls: Sequence[ToolCall], tools: Mapping[str, Tool]) -> list[StatusLine]:
    """One status line per call, for the user while the round runs ("tool_other" with the
    name for an unknown tool or arguments that do not parse)."""
    lines = []
    for call in calls:
        tool = tools.get(call.name)
        try:
            args = parse_arguments(call, tool)
        except BadArguments:
            args = None
        if tool is None or args is None:
            lines.append(StatusLine("tool_other", short(call.name, 40)))
        else:
            lines.append(tool.status(args))
    return lines


def parse_arguments(call: ToolCall, tool: Tool | None) -> dict[str, Any]:
    """The call's JSON arguments checked against the tool's schema: an object with every
    required property, of the declared basic type. Raises BadArguments saying what is wrong."""
    try:
        args = json.loads(call.arguments or "{}")
    except ValueError:
        raise BadArguments("the arguments are not valid JSON") from None
    if not isinstance(args, dict):
        raise BadArguments("the arguments must be a JSON object")
    if tool is None:
        return args
    schema = tool.spec.parameters
    missing = [name for name in schema.get("required", ()) if name not in args]
    if missing:
        raise BadArguments(f"missing required argument(s): {', '.join(missing)}")
    properties = schema.get("properties") or {}
    for name, value in args.items():
        kind = str((properties.get(name) or {}).get("type"))
        expected = _JSON_TYPES.get(kind)
        if expected and (not isinstance(value, expected) or _bool_as_number(value, kind)):
            raise BadArguments(f"argument {name!r} must be of type {kind}")
    return args


def _bool_as_number(value: object, kind: str) -> bool:
    return isinstance(value, bool) and kind in ("integer", "number")
