"""The fake Gonka proxy, driven with the real ``openai.AsyncOpenAI`` (max_retries=0).

Each failure test documents what the SDK (openai 3.57 on httpx2) really raises for it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx2
import openai
import pytest
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from tests.doubles.fake_gonka import FakeGonka, Reply, ToolCall
from tests.doubles.qwen_tokens import count_chat, count_text

MODEL = "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8"
MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Привет! Как дела?"},
]


@pytest.fixture
async def fake() -> AsyncIterator[FakeGonka]:
    async with FakeGonka(api_key="sk-good") as server:
        yield server


@pytest.fixture
async def client(fake: FakeGonka) -> AsyncIterator[openai.AsyncOpenAI]:
    sdk = openai.AsyncOpenAI(base_url=fake.base_url + "/v1", api_key="sk-good", max_retries=0)
    yield sdk
    await sdk.close()


async def collect(
    client: openai.AsyncOpenAI, **kwargs: Any
) -> tuple[str, list[ChatCompletionChunk]]:
    params: dict[str, Any] = {"model": MODEL, "messages": MESSAGES, "stream": True} | kwargs
    stream = await client.chat.completions.create(**params)
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return text, chunks


def finish_reasons(chunks: list[ChatCompletionChunk]) -> list[str]:
    return [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]


async def test_health_and_models(fake: FakeGonka, client: openai.AsyncOpenAI) -> None:
    async with aiohttp.ClientSession() as http, http.get(fake.base_url + "/health") as resp:
        assert await resp.json() == {"status": "ok"}
    fake.models = ["deepseek-ai/DeepSeek-V3.1"]
    models = await client.models.list()
    assert [m.id for m in models.data] == ["deepseek-ai/DeepSeek-V3.1"]
    assert models.data[0].object == "model" and models.data[0].owned_by == "deepseek-ai"


async def test_stream_round_trip_with_usage(fake: FakeGonka, client: openai.AsyncOpenAI) -> None:
    answer = "Всё хорошо, спасибо! And you?"
    fake.enqueue(Reply(text=answer, chunk_chars=3))
    text, chunks = await collect(client, stream_options={"include_usage": True}, temperature=0.3)
    assert text == answer
    assert chunks[0].choices[0].delta.role == "assistant"
    assert finish_reasons(chunks) == ["stop"]
    assert not chunks[0].id.startswith("chatcmpl-")  # a base64 signature
    usage = chunks[-1].usage
    assert usage is not None and chunks[-1].choices == []
    assert usage.prompt_tokens == count_chat(list(MESSAGES))
    assert usage.completion_tokens == count_text(answer)
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    record = fake.request_log[0]
    assert fake.requests[0]["temperature"] == 0.3 and record.completed
    assert record.sent_content == answer and not record.client_disconnected


async def test_default_echo_and_forced_usage(client: openai.AsyncOpenAI) -> None:
    text, chunks = await collect(client)  # no stream_options: the node adds usage anyway
    assert text == "Echo: Привет! Как дела?"
    assert chunks[-1].usage is not None


async def test_reasoning_deltas_and_think_in_content(
    fake: FakeGonka, client: openai.AsyncOpenAI
) -> None:
    fake.enqueue(Reply(text="42", reasoning="Let me think."))
    fake.enqueue(Reply(text="42", reasoning="Hmm.", think_in_content=True))
    _, chunks = await collect(client)
    extras = [c.choices[0].delta.model_extra or {} for c in chunks if c.choices]
    assert "".join(e.get("reasoning_content", "") for e in extras) == "Let me think."
    text, _ = await collect(client)
    assert text == "<think>\nHmm.\n</think>\n\n42"


async def test_non_stream_shape(fake: FakeGonka, client: openai.AsyncOpenAI) -> None:
    fake.enqueue(Reply(text="Hello there"))
    completion = await client.chat.completions.create(model=MODEL, messages=MESSAGES)
    message = completion.choices[0].message
    assert message.content == "Hello there" and message.tool_calls == []
    assert (message.model_extra or {})["reasoning_content"] is None
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == count_chat(list(MESSAGES))


async def test_max_tokens_truncates_with_length(
    fake: FakeGonka, client: openai.AsyncOpenAI
) -> None:
    fake.enqueue(Reply(text="one two three four five six seven eight nine ten"))
    text, chunks = await collect(client, max_tokens=3)
    assert text == "one two three" and finish_reasons(chunks) == ["length"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 3
    with pytest.raises(openai.BadRequestError):  # 400 {"detail": ...}
        await collect(client, max_tokens=0)


STATUS_ERRORS: list[tuple[int, type[openai.APIStatusError], str]] = [
    (400, openai.BadRequestError, "invalid request"),
    (401, openai.AuthenticationError, "Authorization is required"),
    (402, openai.APIStatusError, "Insufficient balance"),  # no dedicated subclass
    (404, openai.NotFoundError, "not available"),
    (429, openai.RateLimitError, "too many concurrent requests (24/24)"),
    (500, openai.InternalServerError, "Inference node response with an error"),
    (502, openai.InternalServerError, "upstream error: no host left"),
    (503, openai.InternalServerError, "queue is full"),
]


@pytest.mark.parametrize(("status", "error", "fragment"), STATUS_ERRORS)
async def test_status_errors(
    fake: FakeGonka,
    client: openai.AsyncOpenAI,
    status: int,
    error: type[openai.APIStatusError],
    fragment: str,
) -> None:
    fake.enqueue(Reply.error(status))
    with pytest.raises(error) as caught:
        await collect(client)
    # SDK: .message is "Error code: N" (+ " - msg" only for {"error": {"message": ...}});
    # .body is body["error"] when present (often a plain string), else the whole body.
    assert caught.value.status_code == status and fragment in str(caught.value.body)
    assert "retry-after" not in caught.value.response.headers


async def test_real_request_checks(fake: FakeGonka, client: openai.AsyncOpenAI) -> None:
    bad_key = openai.AsyncOpenAI(base_url=client.base_url, api_key="sk-bad", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        await bad_key.chat.completions.create(model=MODEL, messages=MESSAGES)
    await bad_key.close()
    with pytest.raises(openai.NotFoundError) as caught:
        await collect(client, model="Qwen/Retired")
    assert caught.value.code == "model_not_found"  # SDK unwraps {"error": {...}} into .body
    assert caught.value.message == "Error code: 404 - model Qwen/Retired is not available"
    fake.rejected_params.add("logit_bias")
    with pytest.raises(openai.BadRequestError) as rejected:
        await collect(client, logit_bias={"1": 1})
    assert rejected.value.body == {
        "detail": "feature logit_bias is currently rejected by the Gonka network"
    }


async def test_cut_after_is_a_clean_end(fake: FakeGonka, client: openai.AsyncOpenAI) -> None:
    fake.enqueue(Reply(text="abcdefghij", cut_after=6))
    text, chunks = await collect(client)  # SDK: no exception, the iterator just stops
    assert text == "abcdef" and finish_reasons(chunks) == []
    assert all(c.usage is None for c in chunks)


async def test_no_done_still_ends_cleanly(fake: FakeGonka, client: openai.AsyncOpenAI) -> None:
    fake.enqueue(Reply(text="fine", no_done=True))
    text, chunks = await collect(client)
    assert text == "fine" and finish_reasons(chunks) == ["stop"] and chunks[-1].usage


async def test_reset_raises_connection_error(fake: FakeGonka, client: openai.AsyncOpenAI) -> None:
    fake.enqueue(Reply(text="abcdefghij", reset_after=4, chunk_chars=2))
    seen: list[str] = []
    with pytest.raises(openai.APIConnectionError) as caught:  # "Connection error."
        stream = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
        async for chunk in stream:
            seen.append(chunk.choices[0].delta.content or "")
    assert "".join(seen) == "abcd"
    assert isinstance(caught.value.__cause__, httpx2.ReadError)  # ECONNRESET


async def test_error_event_raises_api_error(fake: FakeGonka, client: openai.AsyncOpenAI) -> None:
    fake.enqueue(Reply(text="abcdef", error_event_after=2, error_message="node died"))
    with pytest.raises(openai.APIError, match="node died") as caught:
        await collect(client)
    assert not isinstance(caught.value, openai.APIStatusError)  # no status: plain APIError


async def test_plain_error_line(fake: FakeGonka, client: openai.AsyncOpenAI) -> None:
    fake.enqueue(Reply(text="abcdef", plain_error_after=2))
    with pytest.raises(json.JSONDecodeError):  # "data: Inference node ..." is not JSON
        await collect(client)
    fake.enqueue(Reply(text="abcdef", plain_error_after=2, plain_error_line="upstream boom"))
    text, chunks = await collect(client)  # a line without "data:" is skipped by the SSE parser
    assert text == "ab" and finish_reasons(chunks) == []


async def test_tool_call_json_answers_a_stream_with_json(
    fake: FakeGonka, client: openai.AsyncOpenAI
) -> None:
    calls = [ToolCall("get_weather", {"location": "Berlin"})]
    fake.enqueue(Reply(tool_call_json=calls), Reply(tool_call_json=calls))
    text, chunks = await collect(client)  # SDK: the JSON body has no "data:" lines → 0 chunks
    assert (text, chunks) == ("", [])
    completion = await client.chat.completions.create(model=MODEL, messages=MESSAGES)
    tool_calls = completion.choices[0].message.tool_calls or []
    assert completion.choices[0].finish_reason == "tool_calls"
    assert tool_calls[0].id.startswith("call_") and len(tool_calls[0].id) == 29
    assert tool_calls[0].type == "function"
    assert json.loads(tool_calls[0].function.arguments) == {"location": "Berlin"}


async def test_ttft_and_timeout_before_first_byte(
    fake: FakeGonka, client: openai.AsyncOpenAI
) -> None:
    fake.enqueue(Reply(text="ok", ttft=0.15, token_delay=0.01, burst=2))
    started = time.monotonic()
    assert (await collect(client))[0] == "ok"
    assert time.monotonic() - started >= 0.15
    fake.enqueue(Reply(hang_before_first_byte=5))
    with pytest.raises(openai.APITimeoutError):
        await collect(client, timeout=0.2)
    async with asyncio.timeout(2):
        await fake.wait_idle()
    assert fake.request_log[-1].client_disconnected


async def test_client_closing_stream_is_recorded(
    fake: FakeGonka, client: openai.AsyncOpenAI
) -> None:
    fake.enqueue(Reply(text="x" * 400, chunk_chars=1, token_delay=0.005))
    stream = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            break
    closed_at = time.monotonic()
    await stream.close()  # what a Stop button must do
    async with asyncio.timeout(2):
        await fake.wait_idle()
    record = fake.request_log[0]
    assert record.client_disconnected and not record.completed
    assert record.disconnected_at is not None and record.disconnected_at >= closed_at
    assert len(record.sent_content) < 400


async def test_concurrency_limit_and_counters(fake: FakeGonka, client: openai.AsyncOpenAI) -> None:
    fake.max_concurrent = 1
    fake.enqueue(Reply(text="slow", ttft=0.2))
    first = asyncio.create_task(collect(client))
    async with asyncio.timeout(2):
        while fake.in_flight != 1:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    with pytest.raises(openai.RateLimitError) as caught:
        await collect(client)
    assert caught.value.body == "too many concurrent requests (1/1)"
    assert (await first)[0] == "slow"
    assert fake.completion_calls == 2 and fake.max_in_flight == 2 and fake.in_flight == 0


def test_token_counts_are_plausible() -> None:
    russian = (
        "Расскажи, пожалуйста, как работает блокчейн и почему его считают надёжным способом "
        "хранения данных. Приведи пару простых примеров из повседневной жизни."
    )
    english = (
        "Please explain how a blockchain works and why it is considered a reliable way to "
        "store data. Give a couple of simple examples from everyday life."
    )
    ru_chars = len(russian) / count_text(russian)
    en_chars = len(english) / count_text(english)
    assert 2.0 <= ru_chars <= 3.5 and 4.0 <= en_chars <= 5.5
    overhead = count_chat([{"role": "user", "content": ""}])
    assert overhead == 8  # <|im_start|>user\n<|im_end|>\n<|im_start|>assistant\n
    assert count_chat([{"role": "user", "content": russian}]) == overhead + count_text(russian)


async def test_stall_sends_keep_alive_comments_and_no_content(fake: FakeGonka) -> None:
    # The wire a keep-alive stall really has: SSE comment lines, which the SDK skips.
    fake.enqueue(Reply(text="abcdefgh", stall_after=4, stall_for=0.3, keepalive_interval=0.05))
    async with aiohttp.ClientSession() as session:
        body = {"model": MODEL, "messages": MESSAGES, "stream": True}
        headers = {"Authorization": "Bearer sk-good"}
        async with session.post(f"{fake.base_url}/v1/chat/completions", json=body,
                                headers=headers) as response:  # fmt: skip
            raw = (await response.read()).decode()
    assert raw.count(": keep-alive\n\n") >= 4
    before, after = raw.split(": keep-alive", 1)
    assert '"content":"abcd"' in before and '"content":"efgh"' in after
    assert raw.endswith("data: [DONE]\n\n")


async def test_close_after_is_a_fin_inside_the_chunked_body(
    fake: FakeGonka, client: openai.AsyncOpenAI
) -> None:
    fake.enqueue(Reply(text="abcdefghij", close_after=4, chunk_chars=2))
    seen: list[str] = []
    with pytest.raises(openai.APIConnectionError) as caught:  # the body never completed
        stream = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
        async for chunk in stream:
            seen.append(chunk.choices[0].delta.content or "")
    assert "".join(seen) == "abcd"
    assert isinstance(caught.value.__cause__, httpx2.RemoteProtocolError | httpx2.ReadError)


async def test_litellm_shapes(fake: FakeGonka, client: openai.AsyncOpenAI) -> None:
    fake.litellm_errors = True
    with pytest.raises(openai.BadRequestError) as caught:
        await collect(client, model="not/served")
    assert caught.value.type == "invalid_request_error" and caught.value.code == "400"
    assert "Invalid model name passed in model=not/served" in caught.value.message
    fake.enqueue(Reply(text="x " * 50, ignore_max_tokens=True))
    text, chunks = await collect(client, max_tokens=3)
    assert text == "x " * 50 and finish_reasons(chunks) == ["stop"]
    fake.health_body = {"healthy_endpoints": [], "unhealthy_endpoints": [{"model": "m"}]}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{fake.base_url}/health") as response,
    ):
        assert response.status == 200
        assert (await response.json())["unhealthy_endpoints"] == [{"model": "m"}]
    assert fake.health_calls == 1
