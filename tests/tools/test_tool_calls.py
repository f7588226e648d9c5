"""Assembling tool calls: split deltas, parallel calls, server quirks, the emulated one-JSON answer."""

from __future__ import annotations

import json

from bot.adapters.gonka_sse import ChunkParser
from bot.core.models import ToolCall, ToolCallsRequested
from bot.core.tool_calls import ToolCallAssembler


def calls_of_completion(body: object) -> tuple[ToolCall, ...]:
    """The tool calls the gateway's parser reads from a whole chat.completion body."""
    events = ChunkParser().completion(body)
    return next((e.calls for e in events if isinstance(e, ToolCallsRequested)), ())


def _delta(index: int | None = None, **fields: object) -> list[dict[str, object]]:
    entry: dict[str, object] = {}
    if index is not None:
        entry["index"] = index
    if "id" in fields:
        entry["id"] = fields["id"]
        entry["type"] = "function"
    function = {k: fields[k] for k in ("name", "arguments") if k in fields}
    if function:
        entry["function"] = function
    return [entry]


def test_arguments_split_across_chunks() -> None:
    assembler = ToolCallAssembler()
    assembler.feed(_delta(0, id="call_a", name="get_weather", arguments=""))
    for piece in ['{"loc', 'ation": "Be', "rlin", '"}']:
        assembler.feed(_delta(0, arguments=piece))
    assert assembler.pending
    assert assembler.finish() == (ToolCall("call_a", "get_weather", '{"location": "Berlin"}'),)
    assert not assembler.pending
    assert assembler.finish() == ()


def test_two_parallel_calls_interleaved() -> None:
    assembler = ToolCallAssembler()
    assembler.feed(_delta(0, id="call_a", name="get_weather", arguments='{"location":'))
    assembler.feed(_delta(1, id="call_b", name="get_time", arguments=""))
    assembler.feed(_delta(1, arguments='{"timezone_or_city": "Tokyo"}'))
    assembler.feed(_delta(0, arguments=' "Berlin"}'))
    calls = assembler.finish()
    assert [c.id for c in calls] == ["call_a", "call_b"]
    assert json.loads(calls[0].arguments) == {"location": "Berlin"}
    assert json.loads(calls[1].arguments) == {"timezone_or_city": "Tokyo"}


def test_quirks_repeated_ids_no_index_object_arguments_empty_arguments() -> None:
    assembler = ToolCallAssembler()
    # A server repeating id and name in each fragment, without index.
    assembler.feed(_delta(id="call_a", name="calculate", arguments='{"expression": '))
    assembler.feed(_delta(id="call_a", name="calculate", arguments='"1+1"}'))
    # The next call: a new id; arguments as an object.
    assembler.feed([{"id": "call_b", "function": {"name": "get_time", "arguments": {"t": 1}}}])
    # A third one with no id and no arguments at all.
    assembler.feed([{"index": 7, "function": {"name": "noargs"}}])
    assembler.feed(["junk", 3])
    assembler.feed(None)
    calls = assembler.finish()
    assert calls[0] == ToolCall("call_a", "calculate", '{"expression": "1+1"}')
    assert calls[1] == ToolCall("call_b", "get_time", '{"t": 1}')
    assert calls[2].name == "noargs" and calls[2].arguments == "{}"
    assert calls[2].id.startswith("call_") and len(calls[2].id) == 29


def test_name_sent_in_pieces_is_joined() -> None:
    assembler = ToolCallAssembler()
    assembler.feed(_delta(0, id="c1", name="get_"))
    assembler.feed(_delta(0, name="weather", arguments="{}"))
    assert assembler.finish()[0].name == "get_weather"


def test_emulated_one_json_completion() -> None:
    # The proxy's emulation (gonka-wire.md): content null, tool_calls, finish_reason tool_calls.
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_0123456789abcdef01234567",
                            "type": "function",
                            "function": {
                                "name": "get_weather",
                                "arguments": '{"location":"Berlin"}',
                            },
                        },
                        {
                            "id": "call_89abcdef0123456789abcdef",
                            "type": "function",
                            "function": {
                                "name": "get_time",
                                "arguments": '{"timezone_or_city":"Berlin"}',
                            },
                        },
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 80, "completion_tokens": 20, "total_tokens": 100},
    }
    calls = calls_of_completion(body)
    assert calls == (
        ToolCall("call_0123456789abcdef01234567", "get_weather", '{"location":"Berlin"}'),
        ToolCall("call_89abcdef0123456789abcdef", "get_time", '{"timezone_or_city":"Berlin"}'),
    )
    assert calls_of_completion({"choices": []}) == ()
    assert calls_of_completion({"choices": [{"message": {"content": "hi"}}]}) == ()
