"""The runner: concurrency, timeout, Stop, bad JSON, unknown tools, truncation; never raising."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

import pytest

from bot.core.budget import estimate_tokens
from bot.core.models import ToolCall
from bot.core.tool_runner import ToolLimits, ToolRunner, status_of
from bot.core.tools import StatusLine, ToolError, ToolSpec

SCHEMA = {
    "type": "object",
    "properties": {"seconds": {"type": "number"}, "text": {"type": "string"}},
    "required": ["seconds"],
}


class SleepTool:
    """Sleeps, then answers; records cancellation."""

    def __init__(self, name: str = "sleep", fail: Exception | None = None) -> None:
        self.spec = ToolSpec(name, "Sleep then answer", SCHEMA)
        self.fail = fail
        self.started = 0
        self.cancelled = 0

    def status(self, args: Mapping[str, Any]) -> StatusLine:
        return StatusLine("tool_other", f"{self.spec.name} {args['seconds']}")

    async def run(self, args: Mapping[str, Any]) -> str:
        self.started += 1
        try:
            await asyncio.sleep(args["seconds"])
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        if self.fail:
            raise self.fail
        return str(args.get("text", "slept"))


def _call(arguments: str, name: str = "sleep", id: str = "c1") -> ToolCall:
    return ToolCall(id, name, arguments)


async def test_parallel_calls_run_concurrently_in_order() -> None:
    tool = SleepTool()
    runner = ToolRunner(ToolLimits(timeout=5))
    calls = [
        _call('{"seconds": 0.3, "text": "a"}', id="1"),
        _call('{"seconds": 0.3, "text": "b"}', id="2"),
    ]
    started = time.perf_counter()
    results = await runner.run(calls, {"sleep": tool})
    assert time.perf_counter() - started < 0.55
    assert [(r.call.id, r.content, r.outcome) for r in results] == [
        ("1", "a", "ok"),
        ("2", "b", "ok"),
    ]
    message = results[0].as_message()
    assert (message.role, message.tool_call_id, message.content) == ("tool", "1", "a")


async def test_timeout_becomes_a_result(caplog: pytest.LogCaptureFixture) -> None:
    tool = SleepTool()
    runner = ToolRunner(ToolLimits(timeout=0.1))
    caplog.set_level(logging.INFO, "bot.core.tool_runner")
    started = time.perf_counter()
    [result] = await runner.run([_call('{"seconds": 5}')], {"sleep": tool})
    assert time.perf_counter() - started < 1
    assert result.outcome == "timeout"
    assert "did not finish within 0.1 seconds" in result.content
    assert tool.cancelled == 1
    assert "outcome=timeout" in caplog.text


async def test_stop_cancels_running_tools() -> None:
    tool = SleepTool()
    runner = ToolRunner(ToolLimits(timeout=10))
    calls = [_call('{"seconds": 10}', id="1"), _call('{"seconds": 10}', id="2")]
    task = asyncio.create_task(runner.run(calls, {"sleep": tool}))
    await asyncio.sleep(0.05)
    assert tool.started == 2
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert tool.cancelled == 2


async def test_bad_json_unknown_tool_and_failures_go_back_as_results(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "bot.core.tool_runner")
    tools = {
        "sleep": SleepTool(),
        "boom": SleepTool("boom", fail=RuntimeError("secret detail")),
        "nope": SleepTool("nope", fail=ToolError("No place called Atlantis was found.")),
    }
    runner = ToolRunner(ToolLimits(timeout=5))
    calls = [
        _call('{"seconds": 0', id="1"),
        _call('["not an object"]', id="2"),
        _call("{}", id="3"),
        _call('{"seconds": "soon"}', id="4"),
        _call('{"seconds": 0}', name="teleport", id="5"),
        _call('{"seconds": 0}', name="boom", id="6"),
        _call('{"seconds": 0}', name="nope", id="7"),
    ]
    results = await runner.run(calls, tools)
    outcomes = [r.outcome for r in results]
    assert outcomes == [
        "bad_arguments",
        "bad_arguments",
        "bad_arguments",
        "bad_arguments",
        "unknown_tool",
        "error",
        "error",
    ]
    assert "not valid JSON" in results[0].content
    assert "must be a JSON object" in results[1].content
    assert "missing required argument(s): seconds" in results[2].content
    assert "'seconds' must be of type number" in results[3].content
    assert "no tool named 'teleport'" in results[4].content
    assert "Available tools: sleep, boom, nope" in results[4].content
    assert results[5].content == "Error: boom failed (RuntimeError)."
    assert "secret detail" not in caplog.text
    assert results[6].content == "Error: No place called Atlantis was found."
    assert caplog.text.count("tool call name=") == 7


async def test_results_truncated_to_the_token_budget() -> None:
    tool = SleepTool()
    runner = ToolRunner(ToolLimits(timeout=5, result_tokens=100))
    text = "word " * 5000
    [result] = await runner.run([_call(f'{{"seconds": 0, "text": "{text}"}}')], {"sleep": tool})
    assert estimate_tokens(result.content) <= 100
    assert result.content.startswith("word word")
    assert "truncated" in result.content and str(len(text)) in result.content


def test_status_lines_name_the_tool_when_the_call_is_broken() -> None:
    tools = {"sleep": SleepTool()}
    calls = [_call('{"seconds": 2}'), _call("{oops"), _call("{}", name="teleport")]
    assert status_of(calls, tools) == [
        StatusLine("tool_other", "sleep 2"),
        StatusLine("tool_other", "sleep"),
        StatusLine("tool_other", "teleport"),
    ]


async def test_calls_beyond_the_per_round_cap_are_refused_not_run() -> None:
    """Issue 25: nothing capped the calls of a round (500 ran)."""
    tool = SleepTool()
    runner = ToolRunner(ToolLimits(timeout=5, max_calls=8))
    calls = [_call(f'{{"seconds": 0, "text": "r{n}"}}', id=str(n)) for n in range(12)]
    results = await runner.run(calls, {"sleep": tool})
    assert tool.started == 8
    assert [r.call.id for r in results] == [str(n) for n in range(12)]  # every call answered
    assert [r.outcome for r in results] == ["ok"] * 8 + ["refused"] * 4
    assert all("At most 8 tool calls" in r.content for r in results[8:])
    assert ToolLimits().max_calls == 8
