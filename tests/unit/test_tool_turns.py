"""The conversation's tool rounds in the core: quota re-checked per round, usage of every round."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from bot.core.conversation import ConversationConfig
from bot.core.models import (
    ChatKey,
    Finished,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallsRequested,
    Usage,
    UsageReport,
)
from bot.core.quota import QuotaLimits
from bot.core.tool_runner import ToolLimits, ToolRunner
from bot.core.tools import StatusLine, ToolRegistry, ToolSpec
from bot.core.turns import Turns
from tests.fakes import MemoryUsage, RecordingSink, ask, make_turns, open_toolkit


class Echo:
    spec = ToolSpec("echo", "Echoes", {"type": "object", "properties": {}})

    def status(self, args: Mapping[str, Any]) -> StatusLine:
        return StatusLine("tool_other", "echo")

    async def run(self, args: Mapping[str, Any]) -> str:
        return "echoed"


class CallingGateway:
    """Asks for the echo tool `calls` times, then answers; 1000 prompt tokens a round."""

    def __init__(self, calls: int) -> None:
        self.calls = calls
        self.requests: list[list[dict[str, Any]]] = []

    async def stream(
        self,
        model: str,
        messages: Sequence[dict[str, Any]],
        max_tokens: int,
        tools: Sequence[dict[str, Any]] | None = None,
        temperature: float | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        self.requests.append(list(messages))
        if len(self.requests) <= self.calls:
            yield ToolCallsRequested((ToolCall(f"c{len(self.requests)}", "echo", "{}"),))
            yield Finished("tool_calls")
            yield UsageReport(Usage(1000, 10))
            return
        yield TextDelta("done")
        yield Finished("stop")
        yield UsageReport(Usage(1000, 5))


async def _service(gateway: CallingGateway, usage: MemoryUsage) -> Turns:
    tools = await open_toolkit(ToolRegistry([Echo()]), ToolRunner(ToolLimits()), max_rounds=4)
    config = ConversationConfig("Be brief.", token_budget=8000, max_tokens=500)
    return make_turns(gateway, usage=usage, config=config, tools=tools)


async def test_every_rounds_usage_is_counted_and_the_lines_shown() -> None:
    usage, gateway, sink = MemoryUsage(), CallingGateway(2), RecordingSink()
    service = await _service(gateway, usage)
    reply = await ask(service, ChatKey(1), 7, "hi", "m", sink, asyncio.Event())
    assert reply.text == "done"
    assert reply.usage == Usage(3000, 25)
    assert [entry.usage for entry in usage.added] == [Usage(3000, 25)]
    assert sink.tool_lines == [["🛠 echo…"], ["🛠 echo…"]]
    assert [m["role"] for m in gateway.requests[-1]][-4:] == ["assistant", "tool"] * 2


async def test_the_quota_is_checked_again_before_each_further_round() -> None:
    usage, gateway = MemoryUsage(), CallingGateway(3)
    service = await _service(gateway, usage)
    quota = QuotaLimits(daily=2050, monthly=0)
    reply = await ask(
        service, ChatKey(1), 7, "hi", "m", RecordingSink(), asyncio.Event(), quota=quota
    )
    # Round 1 spent 1010 of the 2050: round 2 goes on a further hold; after it 2020 are spent,
    # and the third round's prompt no longer fits in the quota.
    assert len(gateway.requests) == 2
    assert reply.usage.total_tokens == 2020
    assert usage.holds == {}  # every hold settled or given back


async def test_a_modes_tools_are_the_ones_offered_and_run() -> None:
    kit = await open_toolkit(ToolRegistry([Echo()]), ToolRunner(ToolLimits()), max_rounds=4)
    assert await kit.rounds(1, "en", ()) is None  # a mode without tools
    assert await kit.rounds(1, "en", ("calculate",)) is None  # none of the chat's
    for only in (None, ("echo", "calculate")):
        rounds = await kit.rounds(1, "en", only)
        assert rounds is not None and [
            t["function"]["name"] for t in rounds.tools_param() or []
        ] == ["echo"]
