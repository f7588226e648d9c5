"""Upstream failures the way real proxies produce them, on the SDK transport the bot uses
(DefaultAioHttpClient): error bodies, unreachable hosts, proxy-side retries, cut streams."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from openai import AsyncOpenAI, DefaultAioHttpClient, Timeout

from bot.adapters.gonka import GonkaGateway
from bot.adapters.gonka_catalog import GonkaCatalog
from bot.core import errors
from bot.core.models import TextDelta
from tests.doubles.fake_gonka import (
    LITELLM_HEALTH_UNHEALTHY,
    FakeGonka,
    Reply,
    litellm_invalid_model,
)

MODEL = "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8"
MESSAGES = [{"role": "user", "content": "Hi there"}]


@pytest.fixture
async def gonka() -> AsyncIterator[FakeGonka]:
    async with FakeGonka() as server:
        yield server


def _client(base_url: str, key: str = "sk-test-gonka", retries: int = 0) -> AsyncOpenAI:
    """The client exactly as bot/app.py builds it: the aiohttp transport."""
    return AsyncOpenAI(
        api_key=key,
        base_url=base_url + "/v1",
        http_client=DefaultAioHttpClient(),
        max_retries=retries,
        timeout=Timeout(5.0, connect=2.0),
    )


async def _text(gateway: GonkaGateway) -> str:
    deltas = [e async for e in gateway.stream(MODEL, MESSAGES, 256)]
    return "".join(e.text for e in deltas if isinstance(e, TextDelta))


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, litellm_invalid_model(MODEL), errors.ModelUnavailable),
        (404, None, errors.ModelUnavailable),
        (400, {"error": "model foo/bar is not available"}, errors.ModelUnavailable),
        (
            400,
            {
                "error": {
                    "message": "This model's maximum context length is 8192 tokens",
                    "type": "invalid_request_error",
                    "code": "context_length_exceeded",
                }
            },
            errors.UpstreamContextTooLong,
        ),
        (
            400,
            {"detail": "feature tools is currently rejected by the Gonka network"},
            errors.UpstreamBadRequest,
        ),
        (
            400,
            {"error": {"message": "No connected db.", "type": "no_db_connection"}},
            errors.UpstreamBadRequest,
        ),
        (400, {"error": "Insufficient balance"}, errors.InsufficientBalance),
        (503, {"detail": "all hosts are busy: queue is full"}, errors.UpstreamUnavailable),
        (500, "Internal Server Error", errors.UpstreamUnavailable),
    ],
    ids=[
        "litellm-400-model",
        "gonka-404",
        "string-model",
        "context",
        "detail-feature",
        "litellm-no-db",
        "balance-in-400",
        "detail-503",
        "plain-text-500",
    ],
)
async def test_error_bodies_are_read_as_well_as_the_status(
    gonka: FakeGonka, status: int, body: Any, error: type[errors.UpstreamError]
) -> None:
    gonka.enqueue(Reply.error(status, body))
    async with _client(gonka.base_url) as client:
        with pytest.raises(errors.UpstreamError) as info:
            await _text(GonkaGateway(client))
    assert type(info.value) is error


async def test_only_the_history_length_suggests_new() -> None:
    assert errors.UpstreamBadRequest.text_key != errors.UpstreamContextTooLong.text_key
    assert errors.UpstreamContextTooLong.text_key == "error_bad_request"  # the /new hint


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_is_unreachable_not_a_timeout() -> None:
    async with _client(f"http://127.0.0.1:{_free_port()}") as client:
        with pytest.raises(errors.UpstreamError) as info:
            await _text(GonkaGateway(client))
    assert type(info.value) is errors.UpstreamUnreachable
    assert info.value.text_key == "error_unreachable"


async def test_unknown_host_is_unreachable_not_a_timeout() -> None:
    async with _client("http://gonka-proxy.invalid") as client:
        with pytest.raises(errors.UpstreamError) as info:
            await _text(GonkaGateway(client))
    assert type(info.value) is errors.UpstreamUnreachable


async def test_a_silent_upstream_is_still_a_timeout(gonka: FakeGonka) -> None:
    gonka.enqueue(Reply(text="late", hang_before_first_byte=2.0))
    client = AsyncOpenAI(
        api_key=gonka.api_key,
        base_url=gonka.base_url + "/v1",
        http_client=DefaultAioHttpClient(),
        max_retries=0,
        timeout=Timeout(0.3, connect=2.0),
    )
    async with client:
        with pytest.raises(errors.UpstreamError) as info:
            await _text(GonkaGateway(client))
    assert type(info.value) is errors.UpstreamTimeout


async def test_model_list_unreachable_is_unreachable() -> None:
    async with _client(f"http://127.0.0.1:{_free_port()}") as client:
        catalog = GonkaCatalog(client, str(client.base_url), ttl=60)
        with pytest.raises(errors.UpstreamUnreachable):
            await catalog.models()


async def test_retries_share_one_time_budget(gonka: FakeGonka) -> None:
    # A proxy that retries by itself answers "busy" only after ~0.4 s; the SDK's own retries
    # (5 here) multiplied that wait. The budget (1 s) lets one retry start, not more.
    gonka.enqueue(*[Reply(status=503, hang_before_first_byte=0.4) for _ in range(6)])
    async with _client(gonka.base_url, retries=5) as client:
        gateway = GonkaGateway(client, retry_budget=1.0)
        started = time.monotonic()
        with pytest.raises(errors.UpstreamUnavailable):
            await _text(gateway)
        elapsed = time.monotonic() - started
    assert gonka.completion_calls == 2
    assert elapsed < 1.8


async def test_retries_within_the_budget_still_recover(gonka: FakeGonka) -> None:
    gonka.enqueue(Reply.error(429), Reply(text="finally"))
    async with _client(gonka.base_url, retries=2) as client:
        assert await _text(GonkaGateway(client, retry_budget=5.0)) == "finally"
    assert gonka.completion_calls == 2


@pytest.mark.parametrize("ending", ["close", "reset"])
async def test_every_token_before_a_cut_between_two_batched_reads_is_kept(
    gonka: FakeGonka, ending: str
) -> None:
    # Tokens every 20 ms, the bot reads every 300 ms: the connection dies while the last
    # ones wait in the transport's buffer.
    text = "".join(f"w{i:03d} " for i in range(100))
    cut = {f"{ending}_after": 200}
    gonka.enqueue(Reply(text=text, chunk_chars=5, token_delay=0.02, **cut))
    seen = ""
    async with _client(gonka.base_url) as client:
        gateway = GonkaGateway(client, read_interval=0.3)
        with pytest.raises(errors.StreamBroken):
            async for event in gateway.stream(MODEL, MESSAGES, 1000):
                if isinstance(event, TextDelta):
                    seen += event.text
    sent = gonka.request_log[0].sent_content
    assert len(sent) == 200
    assert seen == sent


async def test_health_reads_the_body_and_is_asked_once_a_minute(gonka: FakeGonka) -> None:
    now = [0.0]
    async with _client(gonka.base_url) as client:
        catalog = GonkaCatalog(client, gonka.base_url + "/v1", ttl=60, clock=lambda: now[0])
        assert await catalog.health()
        gonka.health_body = LITELLM_HEALTH_UNHEALTHY  # still a 200
        now[0] = 30
        assert await catalog.health()  # cached: not asked again within the minute
        assert gonka.health_calls == 1
        now[0] = 61
        assert not await catalog.health()
        assert gonka.health_calls == 2
        gonka.health_body = {"status": "degraded"}
        now[0] = 200
        assert not await catalog.health()
