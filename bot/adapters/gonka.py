"""LLMGateway on the official openai SDK: Gonka's SSE stream -> typed events, SDK errors -> domain."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any

import anyio
import httpx2
import openai
from openai import AsyncOpenAI

from bot.adapters.gonka_errors import map_status_error, map_transport_error
from bot.adapters.gonka_sse import ChunkParser, LineSplitter, merged
from bot.core.budget import ANSWER_CHARS_PER_TOKEN
from bot.core.errors import AnswerOversize, StreamBroken, UpstreamError
from bot.core.models import (
    StreamEvent,
)
from bot.core.tool_rounds import rejects_tools

log = logging.getLogger(__name__)

# A read this long (the SDK's aiohttp transport reads up to 16 KiB) may have left more behind:
# read on at once rather than after the pause.
FULL_READ = 16 * 1024

# One character of an answer takes at most this many bytes on the wire (JSON's \\uXXXX), and
# a line or body is never bounded below this (usage, logprobs, ids): the byte bounds of one SSE
# line and of a whole non-streamed body, from the answer's character bound.
BYTES_PER_CHAR = 6
MIN_BODY_BYTES = 64 * 1024

# Statuses worth another attempt (the SDK's own choice): timeouts, conflicts, capacity, 5xx.
RETRYABLE = frozenset({408, 409, 429})


class GonkaGateway:
    """Streams chat completions; failures before the first byte are retried within one budget.

    The SDK sends the request (auth, timeouts, status errors) through its documented
    `client.post`: `chat.completions.create` runs every message through its TypedDict transform,
    5.5 ms a request at 40 messages and growing with the history, for a body we already build in
    the API's shape. The SSE body is read raw and parsed with json.loads: the SDK's per-chunk
    models cost about 0.13 ms a chunk (bench/stream_bench.py --profile).

    Retries are the gateway's, not the SDK's: proxies retry 429/5xx by themselves (LiteLLM for
    about 5 s a request), so the SDK's count of retries multiplied that wait. Here every attempt
    shares `retry_budget` seconds from the first one; no retry starts that would end past it.
    """

    def __init__(
        self,
        client: AsyncOpenAI,
        temperature: float | None = None,
        read_interval: float = 0.0,
        *,
        retry_budget: float = 10.0,
        max_retries: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._temperature = temperature
        self._read_interval = read_interval
        self._retry_budget = retry_budget
        self._max_retries = client.max_retries if max_retries is None else max_retries
        self._clock = clock
        self._toolless: set[str] = set()  # models whose requests rejected `tools`

    async def _open(self, body: dict[str, object]) -> httpx2.Response:
        """POST the request; retry what is worth it while the shared budget allows. A request
        whose `tools` the model or proxy rejects goes again without them (remembered)."""
        started = self._clock()
        attempt = 0
        while True:
            try:
                return await self._client.post(
                    "/chat/completions",
                    cast_to=httpx2.Response,
                    body=body,
                    stream=True,
                    options={"max_retries": 0},
                )
            except openai.APIStatusError as exc:
                if "tools" in body and rejects_tools(exc.status_code, exc.body or exc.message):
                    self._without_tools(body)
                    continue
                error: UpstreamError = map_status_error(exc)
                retry = exc.status_code in RETRYABLE or exc.status_code >= 500
                cause: Exception = exc
            except openai.APIConnectionError as exc:
                error, retry, cause = map_transport_error(exc, "no response"), True, exc
            delay = min(0.5 * 2**attempt, 8.0)
            spent = self._clock() - started
            if not retry or attempt >= self._max_retries or spent + delay > self._retry_budget:
                raise error from cause
            attempt += 1
            log.info("upstream retry attempt=%d error=%s delay=%.1f", attempt, error.kind, delay)
            await asyncio.sleep(delay)

    def _without_tools(self, body: dict[str, object]) -> None:
        model = str(body.get("model"))
        log.warning("upstream rejects tools, resending without them model=%s", model)
        self._toolless.add(model)
        body.pop("tools", None)
        body.pop("tool_choice", None)

    def takes_tools(self, model: str) -> bool:
        """False once the model (or the proxy in front of it) has rejected `tools`."""
        return model not in self._toolless

    async def stream(
        self,
        model: str,
        messages: Sequence[dict[str, Any]],
        max_tokens: int,
        tools: Sequence[dict[str, Any]] | None = None,
        temperature: float | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        """The answer's events; with `tools`, a round that calls tools ends with
        ToolCallsRequested then Finished("tool_calls"). `temperature`: this request's (None:
        the bot-wide one, itself None for the model's default)."""
        body: dict[str, object] = {
            "model": model,
            "messages": list(messages),
            "max_tokens": max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        temperature = self._temperature if temperature is None else temperature
        if temperature is not None:
            body["temperature"] = temperature
        if tools and self.takes_tools(model):
            body["tools"] = list(tools)
        response = await self._open(body)
        chars = max_tokens * ANSWER_CHARS_PER_TOKEN
        max_bytes = max(chars * BYTES_PER_CHAR, MIN_BODY_BYTES)
        parser = ChunkParser(chars)
        splitter = LineSplitter(max_bytes)
        try:
            body_events = self._body(response, parser, splitter, max_bytes)
            async with contextlib.aclosing(body_events) as events:
                async for event in events:
                    yield event
        except (httpx2.HTTPError, anyio.EndOfStream, OSError) as exc:
            # A reset connection or a read timeout inside the 200 stream.
            stranded, broken = _after_break(response, parser, splitter, exc)
            for event in stranded:
                yield event
            if broken is not None:
                raise broken from exc
        finally:
            await response.aclose()
        if not parser.finished:
            raise StreamBroken("stream ended without finish_reason")

    async def _body(
        self,
        response: httpx2.Response,
        parser: ChunkParser,
        splitter: LineSplitter,
        max_bytes: int,
    ) -> AsyncGenerator[StreamEvent, None]:
        if "application/json" in response.headers.get("content-type", ""):
            # A proxy emulating tools answers ONE chat.completion even to a stream request.
            for event in await _completion(response, parser, max_bytes):
                yield event
            return
        async with contextlib.aclosing(self._sse(response, parser, splitter)) as events:
            async for event in events:
                yield event

    async def _sse(
        self, response: httpx2.Response, parser: ChunkParser, splitter: LineSplitter
    ) -> AsyncGenerator[StreamEvent, None]:
        """The SSE body's events, up to [DONE] or the end of the body."""
        async for chunk in response.aiter_bytes():
            async for event in _read(parser, splitter, chunk):
                yield event
            if parser.done:
                return
            if self._pause_after(parser, chunk):
                # Gonka sends a packet per token; reading them one by one woke the
                # whole read path ~400 times an answer. The reader never shows text
                # faster than this, so what arrived meanwhile is read in one go.
                await self._pause(response)
        for event in parser.line(splitter.rest()):
            yield event

    async def _pause(self, response: httpx2.Response) -> None:
        """Wait out the read interval, but not past the end of the body: once the whole answer
        (finish, usage, [DONE]) has arrived it is read at once (aiohttp's wait_eof; another
        transport simply sleeps)."""
        wait_eof = getattr(_aiohttp_content(response), "wait_eof", None)
        if wait_eof is None:
            await asyncio.sleep(self._read_interval)
            return
        # A broken connection ends the wait too; the next read raises it, mapped by the transport.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self._read_interval):
                await wait_eof()

    def _pause_after(self, parser: ChunkParser, chunk: bytes) -> bool:
        """Pause between reads once text flows; not before the first text (it shows at once),
        not after finish_reason (usage and [DONE] follow at once), not after a full read."""
        return (
            self._read_interval > 0
            and parser.text_seen
            and not parser.finished
            and len(chunk) < FULL_READ
        )


async def _read(
    parser: ChunkParser, splitter: LineSplitter, chunk: bytes
) -> AsyncGenerator[StreamEvent, None]:
    """The events of one read, then the StreamBroken of a bad line if one came (what came
    before a broken line is part of the answer)."""
    events, broken = parser.lines(splitter.feed(chunk))
    for event in merged(events):
        yield event
    if broken is not None:
        raise broken


def _after_break(
    response: httpx2.Response, parser: ChunkParser, splitter: LineSplitter, exc: Exception
) -> tuple[list[StreamEvent], StreamBroken | None]:
    """The events that reached the bot before the connection broke, and the StreamBroken to
    raise after them when the answer had not finished."""
    if parser.finished:
        log.warning("upstream stream broke after finish_reason error=%s", type(exc).__name__)
        return [], None
    # What reached the bot before the cut is part of the answer (parsed lines only).
    lines, _ = parser.lines(splitter.feed(_stranded(response)))
    events = merged(lines)
    return events, None if parser.finished else StreamBroken(type(exc).__name__)


def _aiohttp_content(response: httpx2.Response) -> object:
    stream = getattr(response, "stream", None)
    stream = getattr(stream, "_stream", stream)  # httpx wraps the transport's stream
    raw = getattr(stream, "_aiohttp_response", None)
    return getattr(raw, "content", None)


async def _completion(
    response: httpx2.Response, parser: ChunkParser, max_bytes: int
) -> list[StreamEvent]:
    """The events of one whole chat.completion body, read as it arrives up to `max_bytes`."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise AnswerOversize(f"a completion body over {max_bytes} bytes")
    try:
        completion = json.loads(body)
    except ValueError as exc:
        raise StreamBroken("unreadable completion body") from exc
    return parser.completion(completion)


def _stranded(response: httpx2.Response) -> bytes:
    """Bytes the transport received but did not hand over when the connection failed.

    aiohttp raises the payload error before it returns what is already buffered, and the reads
    are batched (a pause between them), so the last ~0.1 s of tokens sat in its buffer. The
    buffer is read through the aiohttp reader's own `_read_nowait` (private, so every step is
    guarded: another transport simply has nothing stranded).
    """
    read = getattr(_aiohttp_content(response), "_read_nowait", None)
    if read is None:
        return b""
    try:
        data = read(-1)
    except Exception:  # the private API changed: lose the tail rather than the turn
        log.warning("stranded bytes unreadable", exc_info=True)
        return b""
    return data if isinstance(data, bytes) else b""
