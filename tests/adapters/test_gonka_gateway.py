"""GonkaGateway against the fake Gonka server: events, usage and every failure mode."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest
from openai import AsyncOpenAI, DefaultAioHttpClient, Timeout

from bot.adapters.gonka import GonkaGateway
from bot.adapters.gonka_sse import ChunkParser, LineSplitter
from bot.core import errors
from bot.core.models import (
    Finished,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCallsRequested,
    UsageReport,
)
from tests.doubles.fake_gonka import FakeGonka, Reply, ToolCall
from tests.doubles.qwen_tokens import count_chat, count_text

MODEL = "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}]


@pytest.fixture
async def gonka() -> AsyncIterator[FakeGonka]:
    async with FakeGonka() as server:
        yield server


def _gateway(gonka: FakeGonka, *, retries: int = 0, read: float = 5.0) -> GonkaGateway:
    client = AsyncOpenAI(
        api_key=gonka.api_key,
        base_url=gonka.base_url + "/v1",
        max_retries=retries,
        timeout=Timeout(read, connect=2.0),
    )
    return GonkaGateway(client)


async def _collect(gateway: GonkaGateway) -> list[StreamEvent]:
    return [event async for event in gateway.stream(MODEL, MESSAGES, 256)]


async def test_stream_events_and_usage(gonka: FakeGonka) -> None:
    gonka.enqueue(Reply(text="Hello, friend! Привет 👋", reasoning="thinking hard"))
    events = await _collect(_gateway(gonka))
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    assert text == "Hello, friend! Привет 👋"
    assert reasoning == "thinking hard"
    assert Finished("stop") in events
    usage = next(e.usage for e in events if isinstance(e, UsageReport))
    assert usage.prompt_tokens == count_chat(MESSAGES)
    assert usage.completion_tokens == count_text(text) + count_text(reasoning)
    assert gonka.requests[0]["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, errors.UpstreamAuthError),
        (402, errors.InsufficientBalance),
        (404, errors.ModelUnavailable),
        (400, errors.UpstreamBadRequest),
        (429, errors.UpstreamBusy),
        (500, errors.UpstreamUnavailable),
        (502, errors.UpstreamUnavailable),
        (503, errors.UpstreamUnavailable),
    ],
)
async def test_status_errors_map_to_domain(
    gonka: FakeGonka, status: int, error: type[Exception]
) -> None:
    gonka.enqueue(Reply.error(status))
    with pytest.raises(error):
        await _collect(_gateway(gonka))


async def test_transient_errors_are_retried_by_the_sdk(gonka: FakeGonka) -> None:
    gonka.enqueue(Reply.error(503), Reply.error(429), Reply(text="finally"))
    events = await _collect(_gateway(gonka, retries=2))
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "finally"
    assert gonka.completion_calls == 3


@pytest.mark.parametrize(
    "reply",
    [
        Reply(text="a long answer that is cut", cut_after=8),
        Reply(text="a long answer that is reset", reset_after=8),
        Reply(text="a long answer with an error event", error_event_after=8),
        Reply(text="a long answer with a plain error line", plain_error_after=8),
    ],
    ids=["clean-eof", "reset", "error-event", "plain-text-line"],
)
async def test_mid_stream_failures_raise_stream_broken_after_text(
    gonka: FakeGonka, reply: Reply
) -> None:
    gonka.enqueue(reply)
    seen = ""
    with pytest.raises(errors.StreamBroken):
        async for event in _gateway(gonka).stream(MODEL, MESSAGES, 256):
            if isinstance(event, TextDelta):
                seen += event.text
    assert seen and (reply.text or "").startswith(seen)


async def test_missing_done_after_finish_is_complete(gonka: FakeGonka) -> None:
    gonka.enqueue(Reply(text="whole answer", no_done=True))
    events = await _collect(_gateway(gonka))
    assert Finished("stop") in events


async def test_timeout_before_first_byte(gonka: FakeGonka) -> None:
    gonka.enqueue(Reply(text="late", hang_before_first_byte=2.0))
    with pytest.raises(errors.UpstreamTimeout):
        await _collect(_gateway(gonka, read=0.3))


async def test_length_finish_and_missing_usage(gonka: FakeGonka) -> None:
    gonka.enqueue(Reply(text="word " * 50, send_usage=False))
    events = [e async for e in _gateway(gonka).stream(MODEL, MESSAGES, 5)]
    assert Finished("length") in events
    assert not any(isinstance(e, UsageReport) for e in events)


async def test_closing_the_iterator_closes_the_http_stream(gonka: FakeGonka) -> None:
    gonka.enqueue(Reply(text="x" * 400, chunk_chars=2, token_delay=0.01))
    stream = _gateway(gonka).stream(MODEL, MESSAGES, 1000)
    async for event in stream:
        if isinstance(event, TextDelta):
            break
    await stream.aclose()
    await gonka.wait_idle()
    assert gonka.request_log[0].client_disconnected


async def test_json_answer_to_a_stream_request_is_understood(gonka: FakeGonka) -> None:
    # A proxy emulating tool calls answers one application/json completion, even to stream=true.
    gonka.enqueue(Reply(tool_call_json=[ToolCall("get_weather", {"city": "Berlin"})]))
    events = await _collect(_gateway(gonka))
    assert Finished("tool_calls") in events
    assert any(isinstance(e, UsageReport) for e in events)
    assert not any(isinstance(e, TextDelta) for e in events)


async def test_reads_after_the_first_text_are_batched(gonka: FakeGonka) -> None:
    # 16 deltas, one per TCP write every 50 ms; the reader wakes every 300 ms after the first.
    gonka.enqueue(Reply(text="ab" * 16, chunk_chars=2, token_delay=0.05))
    # The bot's transport: aiohttp hands over all that arrived since the last read at once.
    async with AsyncOpenAI(
        api_key=gonka.api_key, base_url=gonka.base_url + "/v1", http_client=DefaultAioHttpClient()
    ) as client:
        gateway = GonkaGateway(client, read_interval=0.3)
        events = [e async for e in gateway.stream(MODEL, MESSAGES, 64)]
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert "".join(deltas) == "ab" * 16
    assert deltas[0] == "ab"  # the first text is not held back
    assert 2 <= len(deltas) <= 6
    assert Finished("stop") in events


async def test_an_event_larger_than_one_read_is_joined(gonka: FakeGonka) -> None:
    big = "x" * 150_000  # more than one read of the transport (64 KiB)
    gonka.enqueue(Reply(chunk_chars=[big, "end"], text=big + "end"))
    events = [e async for e in _gateway(gonka).stream(MODEL, MESSAGES, 100_000)]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == big + "end"


async def test_request_body_is_the_conversation_as_built(gonka: FakeGonka) -> None:
    history = [{"role": "system", "content": "Be brief."}] + [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"message {i} <&> 👋"}
        for i in range(41)
    ]
    gonka.enqueue(Reply(text="ok"))
    client = _gateway(gonka)._client
    events = [e async for e in GonkaGateway(client, temperature=0.4).stream(MODEL, history, 99)]
    assert Finished("stop") in events
    assert gonka.requests[0] == {
        "model": MODEL,
        "messages": history,
        "max_tokens": 99,
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.4,
    }
    assert "temperature" not in await _body_without_temperature(gonka)


async def test_a_requests_own_temperature_comes_before_the_bot_wide_one(gonka: FakeGonka) -> None:
    client = _gateway(gonka)._client
    wide = GonkaGateway(client, temperature=0.7)
    for temperature in (0.2, None):  # a chat's mode's; none: the bot-wide one
        gonka.enqueue(Reply(text="ok"))
        _ = [e async for e in wide.stream(MODEL, MESSAGES, 64, temperature=temperature)]
    gonka.enqueue(Reply(text="ok"))
    _ = [e async for e in GonkaGateway(client).stream(MODEL, MESSAGES, 64, temperature=0.0)]
    assert [body["temperature"] for body in gonka.requests] == [0.2, 0.7, 0.0]


async def _body_without_temperature(gonka: FakeGonka) -> dict[str, object]:
    gonka.enqueue(Reply(text="ok"))
    await _collect(_gateway(gonka))
    return gonka.requests[-1]


def test_sse_lines_end_with_lf_crlf_or_cr_across_reads() -> None:
    splitter = LineSplitter()
    lines = splitter.feed(b'data: {"a":1}\r\n\r\ndata: {"b"')
    lines += splitter.feed(b':2}\r\rdata: {"c":3}\n\nda')
    assert [line for line in lines if line] == [
        b'data: {"a":1}',
        b'data: {"b":2}',
        b'data: {"c":3}',
    ]
    assert splitter.rest() == b"da"


def test_nothing_after_done_is_parsed() -> None:
    parser = ChunkParser()
    finish = b'data: {"choices":[{"delta":{},"finish_reason":"stop"}]}'
    after = [b'data: {"choices":[{"delta":{"content":"extra"}}]}', b"data: not json"]
    events, broken = parser.lines([finish, b"data: [DONE]", *after])
    assert events == [Finished("stop")] and broken is None and parser.done


async def test_the_pause_between_reads_never_delays_the_end_of_a_burst(gonka: FakeGonka) -> None:
    # The first text, then the rest of the answer in a burst 30 ms behind it (finish, usage,
    # [DONE]): it arrives during the reader's pause, and the stream ends as soon as it is in.
    gonka.enqueue(Reply(chunk_chars=["ab", "cd" * 40], burst=2, token_delay=0.03))
    async with AsyncOpenAI(
        api_key=gonka.api_key, base_url=gonka.base_url + "/v1", http_client=DefaultAioHttpClient()
    ) as client:
        gateway = GonkaGateway(client, read_interval=0.5)
        events = [e async for e in gateway.stream(MODEL, MESSAGES, 256)]
        ended = time.monotonic()
    record = gonka.request_log[0]
    assert record.finished_at is not None
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "ab" + "cd" * 40
    assert ended - record.finished_at < 0.2


async def test_streamed_tool_calls_are_assembled_before_finish(gonka: FakeGonka) -> None:
    gonka.enqueue(
        Reply(
            text="Let me look.",
            tool_calls=[ToolCall("get_weather", {"location": "Berlin"}), ToolCall("get_time", {})],
            chunk_chars=3,
        )
    )
    events = [e async for e in _gateway(gonka).stream(MODEL, MESSAGES, 256, tools=[_WEATHER_SPEC])]
    requested = next(e for e in events if isinstance(e, ToolCallsRequested))
    assert [c.name for c in requested.calls] == ["get_weather", "get_time"]
    assert json.loads(requested.calls[0].arguments) == {"location": "Berlin"}
    assert events.index(requested) < events.index(Finished("tool_calls"))
    assert gonka.requests[0]["tools"] == [_WEATHER_SPEC]


async def test_emulated_tool_calls_in_one_json_answer(gonka: FakeGonka) -> None:
    gonka.enqueue(Reply(tool_call_json=[ToolCall("get_weather", {"location": "Paris"})]))
    events = [e async for e in _gateway(gonka).stream(MODEL, MESSAGES, 256, tools=[_WEATHER_SPEC])]
    requested = next(e for e in events if isinstance(e, ToolCallsRequested))
    assert requested.calls[0].name == "get_weather"
    assert requested.calls[0].id.startswith("call_")
    assert json.loads(requested.calls[0].arguments) == {"location": "Paris"}


async def test_a_rejection_of_tools_is_resent_without_and_remembered(gonka: FakeGonka) -> None:
    gonka.rejected_params = {"tools"}
    gateway = _gateway(gonka)
    gonka.enqueue(Reply(text="plain"))
    events = [e async for e in gateway.stream(MODEL, MESSAGES, 256, tools=[_WEATHER_SPEC])]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "plain"
    assert [("tools" in body) for body in gonka.requests] == [True, False]
    gonka.enqueue(Reply(text="again"))
    events = [e async for e in gateway.stream(MODEL, MESSAGES, 256, tools=[_WEATHER_SPEC])]
    assert "tools" not in gonka.requests[-1]
    assert len(gonka.requests) == 3


_WEATHER_SPEC = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
    },
}
