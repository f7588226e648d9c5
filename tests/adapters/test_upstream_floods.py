"""A hostile upstream's floods stop at the answer's size cap (MAX_TOKENS x 10 characters):
tool-call arguments, one SSE line, a non-streamed body; reading stops there, so the upstream
gets to send little more than the cap (what the sockets' buffers hold)."""

from __future__ import annotations

import openai
import pytest
from openai import AsyncOpenAI, DefaultAioHttpClient

from bot.adapters.gonka import BYTES_PER_CHAR, GonkaGateway
from bot.adapters.gonka_errors import gonka_http_client
from bot.core.errors import AnswerOversize, UpstreamUnavailable
from bot.core.models import ReasoningDelta, ToolCallsRequested
from bot.core.tool_calls import ToolCallAssembler
from tests.doubles.fake_gonka import FakeGonka, Reply
from tests.doubles.fake_gonka_floods import Flood, FloodKind

MODEL = "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8"
MESSAGES = [{"role": "user", "content": "Hi there"}]
MAX_TOKENS = 1000  # 10,000 characters; one line or body: 60,000 bytes (64 KiB at least)
MB = 1024 * 1024


@pytest.mark.parametrize("kind", ["tool_args", "sse_line", "json_body"])
async def test_a_flood_stops_at_the_cap(kind: FloodKind) -> None:
    async with (
        FakeGonka() as gonka,
        AsyncOpenAI(
            api_key=gonka.api_key,
            base_url=gonka.base_url + "/v1",
            http_client=DefaultAioHttpClient(),
            max_retries=0,
        ) as client,
    ):
        gonka.enqueue(Reply(flood=Flood(kind, size=40 * MB)))
        gateway = GonkaGateway(client)
        calls: list[ToolCallsRequested] = []
        with pytest.raises(AnswerOversize):
            async for event in gateway.stream(MODEL, MESSAGES, MAX_TOKENS, tools=[]):
                if isinstance(event, ToolCallsRequested):
                    calls.append(event)
        await gonka.wait_idle()
        (record,) = gonka.request_log
    assert calls == []  # nothing of the oversize call reaches the tool round
    assert record.client_disconnected
    # The cap, and what the sockets' buffers took in before the connection closed.
    assert record.sent_bytes[0] < 16 * MB


async def test_endless_reasoning_is_read_a_piece_at_a_time() -> None:
    """Reasoning flows in small deltas: the round's character cap (round_stream) stops it; the
    gateway never holds more than one read of it."""
    async with (
        FakeGonka() as gonka,
        AsyncOpenAI(
            api_key=gonka.api_key,
            base_url=gonka.base_url + "/v1",
            http_client=DefaultAioHttpClient(),
            max_retries=0,
        ) as client,
    ):
        gonka.enqueue(Reply(flood=Flood("reasoning", size=4 * MB)))
        gateway = GonkaGateway(client)
        seen = 0
        stream = gateway.stream(MODEL, MESSAGES, MAX_TOKENS)
        async for event in stream:
            assert isinstance(event, ReasoningDelta)
            assert len(event.text) <= MAX_TOKENS * 10 * BYTES_PER_CHAR
            seen += len(event.text)
            if seen > MAX_TOKENS * 10:
                break
        await stream.aclose()
        await gonka.wait_idle()
        assert gonka.request_log[0].client_disconnected


def test_the_assembler_refuses_arguments_past_its_cap_in_linear_time() -> None:
    assembler = ToolCallAssembler(max_chars=100_000)
    assembler.feed([{"index": 0, "id": "call_1", "function": {"name": "web_search"}}])
    fragment = [{"index": 0, "function": {"arguments": "a" * 1000}}]
    with pytest.raises(AnswerOversize):
        for _ in range(1000):
            assembler.feed(fragment)
    assert not assembler.pending


async def test_an_endless_error_body_is_read_up_to_a_bound() -> None:
    """The SDK reads a 4xx/5xx body whole before it raises; the bot's client reads 64 KiB."""
    async with (
        FakeGonka() as gonka,
        AsyncOpenAI(
            api_key=gonka.api_key,
            base_url=gonka.base_url + "/v1",
            http_client=gonka_http_client(),
            max_retries=0,
        ) as client,
    ):
        gonka.enqueue(Reply(flood=Flood("error_body", size=40 * MB)))
        gateway = GonkaGateway(client, max_retries=0)
        with pytest.raises(UpstreamUnavailable, match="502"):
            async for _ in gateway.stream(MODEL, MESSAGES, MAX_TOKENS):
                pass
        await gonka.wait_idle()
        (record,) = gonka.request_log
    assert record.client_disconnected
    assert record.sent_bytes[0] < 16 * MB


async def test_a_bounded_error_is_the_sdks_own_class() -> None:
    """Start-up checks tell a refused key by the SDK's AuthenticationError."""
    async with (
        FakeGonka() as gonka,
        AsyncOpenAI(
            api_key="sk-wrong", base_url=gonka.base_url + "/v1", http_client=gonka_http_client()
        ) as client,
    ):
        with pytest.raises(openai.AuthenticationError) as raised:
            await client.chat.completions.create(model=MODEL, messages=[])
    assert raised.value.status_code == 401
    assert raised.value.body == "Invalid API key"  # the inner `error`, as the SDK gives it
