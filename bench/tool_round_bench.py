"""The bot's own time per tool round, for the parts the tools code owns.

    python bench/tool_round_bench.py [--rounds 2000] [--history 40] [--result-chars 6000]
    python bench/tool_round_bench.py --wire [--turns 200]

--wire measures the whole bot path instead: ConversationService with the real GonkaGateway (openai
SDK, aiohttp transport) against the fake Gonka streaming two tool calls; the time from the
round's last upstream byte (the fake's last write) to the next upstream request (the fake's
arrival), minus the tools' own time.

One round, as the conversation loop will run it: the stream's tool-call deltas (two parallel
calls, arguments split over a dozen chunks, already JSON-parsed as the gateway parses them) fed
to the assembler; status lines; ToolRounds.run_round with two tools that answer at once (one
result long enough to be truncated); then the next request body built and serialised (history
+ the round's messages, `tools` param). Tool time is zero, so all that is measured is overhead:
the budget the issue sets is p50 < 5 ms from the last upstream byte to the next request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.core.budget import message_tokens
from bot.core.models import ChatMessage
from bot.core.tool_calls import ToolCallAssembler
from bot.core.tool_rounds import ToolRounds
from bot.core.tool_runner import ToolLimits, ToolRunner
from bot.core.tools import StatusLine, ToolSpec
from bot.telegram.texts import t

ROOT = str(Path(__file__).resolve().parents[1])


class InstantTool:
    def __init__(self, name: str, result: str) -> None:
        self.spec = ToolSpec(name, "Answers at once", {
            "type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]})  # fmt: skip
        self._result = result

    def status(self, args: Mapping[str, Any]) -> StatusLine:
        return StatusLine("tool_other", str(args["q"]))

    async def run(self, args: Mapping[str, Any]) -> str:
        return self._result


def deltas() -> list[list[dict[str, Any]]]:
    chunks: list[list[dict[str, Any]]] = []
    for index, (name, args) in enumerate((("weather", '{"q": "Berlin, Germany"}'),
                                          ("page", '{"q": "https://example.com/a/long/path"}'))):  # fmt: skip
        chunks.append([{"index": index, "id": f"call_{index:024x}", "type": "function",
                        "function": {"name": name, "arguments": ""}}])  # fmt: skip
        step = max(len(args) // 6, 1)
        chunks += [[{"index": index, "function": {"arguments": args[i : i + step]}}]
                   for i in range(0, len(args), step)]  # fmt: skip
    return chunks


async def one_round(
    history: list[dict[str, Any]], tools: dict[str, InstantTool], runner: ToolRunner
) -> float:
    stream = deltas()
    started = time.perf_counter()
    assembler = ToolCallAssembler()
    for entries in stream:
        assembler.feed(entries)
    calls = assembler.finish()
    rounds = ToolRounds(runner, tools, 4, t)
    rounds.status_lines(calls)
    await rounds.run_round("", calls)
    body = {"model": "m", "messages": history + rounds.payload(), "max_tokens": 2048,
            "stream": True, "tools": rounds.tools_param()}  # fmt: skip
    json.dumps(body).encode()
    return time.perf_counter() - started


class TimedTool(InstantTool):
    """Answers at once and keeps how long its runs took (subtracted from the round's time)."""

    def __init__(self, name: str, result: str, spent: list[float]) -> None:
        super().__init__(name, result)
        self._spent = spent

    async def run(self, args: Mapping[str, Any]) -> str:
        started = time.perf_counter()
        await asyncio.sleep(0.002)  # a tool that takes a little time, like a fast local one
        result = await super().run(args)
        self._spent.append(time.perf_counter() - started)
        return result


async def wire(turns: int, history_len: int) -> None:
    sys.path.insert(0, ROOT)  # the tests' fakes
    from openai import AsyncOpenAI, DefaultAioHttpClient

    from bot.adapters.gonka import GonkaGateway
    from bot.core.conversation import ConversationConfig, ConversationService
    from bot.core.models import ChatKey
    from bot.core.tools import ToolRegistry
    from tests.doubles.fake_gonka import FakeGonka, Reply, ToolCall
    from tests.fakes import MemoryHistory, MemoryUsage, RecordingSink, ask, make_turns, open_toolkit

    spent: list[float] = []
    tools = [TimedTool("weather", "Berlin: 3 °C.", spent), TimedTool("page", "A page.", spent)]
    model = "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8"
    overheads: list[float] = []
    async with (
        FakeGonka() as gonka,
        AsyncOpenAI(
            api_key=gonka.api_key,
            base_url=gonka.base_url + "/v1",
            http_client=DefaultAioHttpClient(),
        ) as client,
    ):
        history, usage, config = (
            MemoryHistory(),
            MemoryUsage(),
            ConversationConfig("Be brief.", 16000, 512),
        )
        chats = ConversationService(history, usage, config)
        service = make_turns(
            GonkaGateway(client, read_interval=0.1), history, usage, config=config,
            tools=await open_toolkit(ToolRegistry(tools), ToolRunner(ToolLimits()), 4),
        )  # fmt: skip
        line = "An earlier message of the conversation. " * 4
        for n in range(turns + 5):
            chat = ChatKey(n)
            for i in range(history_len // 2):
                await chats.overhear(chat, "User", f"{line} {i}")
            calls = [ToolCall("weather", {"q": "Berlin"}), ToolCall("page", {"q": "x"})]
            gonka.enqueue(Reply(text="", tool_calls=calls, chunk_chars=3), Reply(text="Done."))
            spent.clear()
            first = len(gonka.request_log)
            await ask(service, chat, 1, "weather?", model, RecordingSink(), asyncio.Event())
            one, two = gonka.request_log[first : first + 2]
            assert one.finished_at is not None
            if n >= 5:  # warm-up turns
                overheads.append(two.received_at - one.finished_at - max(spent))
    overheads.sort()
    p50 = statistics.median(overheads) * 1000
    p95 = overheads[int(len(overheads) * 0.95)] * 1000
    print(f"tool round, last upstream byte -> next upstream request minus tool time, over "
          f"{turns} turns (history {history_len}): p50 {p50:.2f} ms, p95 {p95:.2f} ms")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--history", type=int, default=40)
    parser.add_argument("--result-chars", type=int, default=6000)
    parser.add_argument("--wire", action="store_true")
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    if args.wire:
        await wire(args.turns, args.history)
        return
    text = "A sentence of a page that goes on for a while. " * (args.result_chars // 48)
    tools = {
        "weather": InstantTool("weather", "Berlin: 3 °C, overcast."),
        "page": InstantTool("page", text),
    }
    runner = ToolRunner(ToolLimits(timeout=15, result_tokens=1500))
    line = "Some earlier message of the conversation, of an ordinary length. " * 4
    history = [ChatMessage("user" if i % 2 == 0 else "assistant", line, message_tokens("user", line)).as_openai()
               for i in range(args.history)]  # fmt: skip
    for _ in range(50):
        await one_round(history, tools, runner)  # warm-up
    times = sorted([await one_round(history, tools, runner) for _ in range(args.rounds)])
    p50 = statistics.median(times) * 1000
    p95 = times[int(len(times) * 0.95)] * 1000
    print(f"tool round overhead over {args.rounds} rounds (history {args.history} messages, "
          f"result {args.result_chars} chars): p50 {p50:.3f} ms, p95 {p95:.3f} ms, max {times[-1] * 1000:.3f} ms")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
