"""LLMGateway on the official openai SDK: Gonka's SSE stream -> typed events, SDK errors -> domain."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import anyio
import httpx2
import openai
from openai import AsyncOpenAI

from bot.core.errors import (
    InsufficientBalance,
    ModelUnavailable,
    StreamBroken,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamBusy,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from bot.core.models import (
    Finished,
    FinishReason,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    Usage,
    UsageReport,
)

log = logging.getLogger(__name__)

# A read this long (the SDK's aiohttp transport reads up to 16 KiB) may have left more behind:
# read on at once rather than after the pause.
FULL_READ = 16 * 1024

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
}


def map_status_error(exc: openai.APIStatusError) -> UpstreamError:
    """Gonka's status codes -> domain errors. Bodies vary ({"error": str|obj}, {"detail": ...})."""
    status = exc.status_code
    if status in (401, 403):
        return UpstreamAuthError(str(status))
    if status == 402:
        return InsufficientBalance(str(status))
    if status == 404:
        return ModelUnavailable(str(status))
    if status == 429:
        return UpstreamBusy(str(status))
    if status in (400, 413, 422):
        return UpstreamBadRequest(str(status))
    return UpstreamUnavailable(str(status))


class GonkaGateway:
    """Streams chat completions. Retries before the first byte are the SDK's own (max_retries).

    The SDK sends the request (auth, retries, timeouts, status errors) through its documented
    `client.post`: `chat.completions.create` runs every message through its TypedDict transform,
    5.5 ms a request at 40 messages and growing with the history, for a body we already build in
    the API's shape. The SSE body is read raw and parsed with json.loads: the SDK's per-chunk
    models cost about 0.13 ms a chunk (bench/stream_bench.py --profile).
    """

    def __init__(
        self, client: AsyncOpenAI, temperature: float | None = None, read_interval: float = 0.0
    ) -> None:
        self._client = client
        self._temperature = temperature
        self._read_interval = read_interval

    async def stream(
        self, model: str, messages: Sequence[dict[str, str]], max_tokens: int
    ) -> AsyncGenerator[StreamEvent, None]:
        body: dict[str, object] = {
            "model": model,
            "messages": list(messages),
            "max_tokens": max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if self._temperature is not None:
            body["temperature"] = self._temperature
        try:
            response = await self._client.post(
                "/chat/completions", cast_to=httpx2.Response, body=body, stream=True
            )
        except openai.APIStatusError as exc:
            raise map_status_error(exc) from exc
        except openai.APITimeoutError as exc:
            raise UpstreamTimeout("no response") from exc
        except openai.APIConnectionError as exc:
            raise UpstreamUnavailable("connection failed") from exc
        parser = _ChunkParser()
        try:
            if "application/json" in response.headers.get("content-type", ""):
                # A proxy emulating tools answers ONE chat.completion even to a stream request.
                try:
                    completion = json.loads(await response.aread())
                except ValueError as exc:
                    raise StreamBroken("unreadable completion body") from exc
                for event in parser.completion(completion):
                    yield event
            else:
                splitter = _LineSplitter()
                async for chunk in response.aiter_bytes():
                    events, broken = parser.lines(splitter.feed(chunk))
                    for event in _merged(events):
                        yield event  # what came before a broken line is part of the answer
                    if broken is not None:
                        raise broken
                    if parser.done:
                        break
                    if self._pause_after(parser, chunk):
                        # Gonka sends a packet per token; reading them one by one woke the
                        # whole read path ~400 times an answer. The reader never shows text
                        # faster than this, so what arrived meanwhile is read in one go.
                        await asyncio.sleep(self._read_interval)
                if not parser.done:
                    for event in parser.line(splitter.rest()):
                        yield event
        except (httpx2.HTTPError, anyio.EndOfStream, OSError) as exc:
            # A reset connection or a read timeout inside the 200 stream.
            if not parser.finished:
                raise StreamBroken(type(exc).__name__) from exc
            log.warning("upstream stream broke after finish_reason error=%s", type(exc).__name__)
        finally:
            await response.aclose()
        if not parser.finished:
            raise StreamBroken("stream ended without finish_reason")

    def _pause_after(self, parser: _ChunkParser, chunk: bytes) -> bool:
        """Pause between reads once text flows; not before the first text (it shows at once),
        not after finish_reason (usage and [DONE] follow at once), not after a full read."""
        return (
            self._read_interval > 0
            and parser.text_seen
            and not parser.finished
            and len(chunk) < FULL_READ
        )


class _LineSplitter:
    """A byte stream -> complete lines; SSE ends lines with \\n, \\r\\n or a lone \\r."""

    def __init__(self) -> None:
        self._tail = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        lines = (self._tail + chunk).replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        self._tail = lines.pop()
        return lines

    def rest(self) -> bytes:
        return self._tail


class _ChunkParser:
    """Gonka's SSE lines -> events. Tolerates key order, logprobs, signature ids, bursts."""

    def __init__(self) -> None:
        self.finished = False
        self.done = False
        self.text_seen = False

    def lines(self, lines: list[bytes]) -> tuple[list[StreamEvent], StreamBroken | None]:
        """Events of `lines` up to [DONE], and the StreamBroken a bad line raised, if one did."""
        events: list[StreamEvent] = []
        for line in lines:
            if self.done:
                break  # nothing after [DONE] belongs to the answer
            try:
                events += self.line(line)
            except StreamBroken as exc:
                return events, exc
        return events, None

    def line(self, line: bytes) -> list[StreamEvent]:
        if not line.startswith(b"data:"):
            return []  # blank separators, comments, event names
        data = line[5:].strip()
        if data == b"[DONE]":
            self.done = True
            return []
        try:
            chunk = json.loads(data)
        except json.JSONDecodeError as exc:
            raise StreamBroken("non-JSON line in stream") from exc
        if not isinstance(chunk, dict):
            raise StreamBroken("unexpected stream payload")
        if chunk.get("error"):
            raise StreamBroken("error event in stream")
        return self._events(chunk, "delta")

    def completion(self, body: object) -> list[StreamEvent]:
        if not isinstance(body, dict):
            raise StreamBroken("unexpected completion payload")
        self.done = True
        return self._events(body, "message")

    def _events(self, chunk: dict[str, Any], field: str) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for choice in chunk.get("choices") or ():
            delta = choice.get(field) or {}
            reasoning = delta.get("reasoning_content")
            if isinstance(reasoning, str) and reasoning:
                events.append(ReasoningDelta(reasoning))
            content = delta.get("content")
            if isinstance(content, str) and content:
                self.text_seen = True
                events.append(TextDelta(content))
            reason = choice.get("finish_reason")
            if reason:
                self.finished = True
                events.append(Finished(_FINISH.get(reason, "other")))
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            events.append(
                UsageReport(
                    Usage(
                        int(usage.get("prompt_tokens") or 0),
                        int(usage.get("completion_tokens") or 0),
                    )
                )
            )
        return events


def _merged(events: list[StreamEvent]) -> list[StreamEvent]:
    """Adjacent deltas of one kind joined: a batch read at once is one update downstream."""
    out: list[StreamEvent] = []
    for event in events:
        last = out[-1] if out else None
        if isinstance(event, TextDelta) and isinstance(last, TextDelta):
            out[-1] = TextDelta(last.text + event.text)
        elif isinstance(event, ReasoningDelta) and isinstance(last, ReasoningDelta):
            out[-1] = ReasoningDelta(last.text + event.text)
        else:
            out.append(event)
    return out
