"""Tool calls over the fake Gonka's wire: streamed deltas, the emulated one-JSON answer, and a
rejection of `tools`, read as the gateway reads them and assembled by ToolCallAssembler."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from bot.core.models import ToolCall as Call
from bot.core.tool_calls import ToolCallAssembler
from bot.core.tool_rounds import rejects_tools
from tests.doubles.fake_gonka import FakeGonka, Reply, ToolCall
from tests.tools.test_tool_calls import calls_of_completion

MODEL = "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8"
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
]


async def _post(fake: FakeGonka, **extra: Any) -> tuple[int, str, bytes]:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Weather?"}], "stream": True}
    headers = {"Authorization": f"Bearer {fake.api_key}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            fake.base_url + "/v1/chat/completions", json=body | extra, headers=headers
        ) as response,
    ):
        return response.status, response.content_type, await response.read()


def _assemble(raw: bytes) -> tuple[str, list[str], tuple[Call, ...]]:
    assembler, text, finishes = ToolCallAssembler(), "", []
    for line in raw.decode().splitlines():
        if not line.startswith("data: {"):
            continue
        for choice in json.loads(line[6:]).get("choices") or ():
            delta = choice.get("delta") or {}
            text += delta.get("content") or ""
            assembler.feed(delta.get("tool_calls"))
            if choice.get("finish_reason"):
                finishes.append(choice["finish_reason"])
    return text, finishes, assembler.finish()


async def test_streamed_calls_split_across_chunks() -> None:
    async with FakeGonka() as fake:
        fake.enqueue(Reply(
            text="Let me look.", chunk_chars=3,
            tool_calls=[ToolCall("get_weather", {"location": "Berlin"}),
                        ToolCall("get_time", {"timezone_or_city": "Europe/Berlin"})],
        ))  # fmt: skip
        status, _, raw = await _post(fake, tools=TOOLS)
    assert status == 200
    assert raw.count(b'"tool_calls"') > 10  # many fragments
    text, finishes, calls = _assemble(raw)
    assert text == "Let me look." and finishes == ["tool_calls"]
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [
        ("get_weather", {"location": "Berlin"}),
        ("get_time", {"timezone_or_city": "Europe/Berlin"}),
    ]
    assert all(c.id.startswith("chatcmpl-tool-") for c in calls) and calls[0].id != calls[1].id


async def test_emulated_one_json_answer_to_a_stream_request() -> None:
    async with FakeGonka() as fake:
        fake.enqueue(Reply(tool_call_json=[ToolCall("get_weather", {"location": "Berlin"})]))
        status, content_type, raw = await _post(fake, tools=TOOLS)
    assert (status, content_type) == (200, "application/json")
    [call] = calls_of_completion(json.loads(raw))
    assert call.name == "get_weather" and json.loads(call.arguments) == {"location": "Berlin"}


async def test_rejection_of_tools_is_recognised() -> None:
    async with FakeGonka() as fake:
        fake.rejected_params = {"tools"}
        status, _, raw = await _post(fake, tools=TOOLS)
        assert rejects_tools(status, json.loads(raw))
        status, _, raw = await _post(fake)
        assert status == 200 and _assemble(raw)[0] == "Echo: Weather?"  # the retry without tools
