"""Gonka's SSE body -> typed events: lines split across reads, chunks parsed, tool calls
assembled (the gateway in gonka.py reads the body; this is the pure part)."""

from __future__ import annotations

import json
from typing import Any

from bot.core.errors import AnswerOversize, StreamBroken
from bot.core.models import (
    Finished,
    FinishReason,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCallsRequested,
    Usage,
    UsageReport,
)
from bot.core.tool_calls import ToolCallAssembler

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
}


class LineSplitter:
    """A byte stream -> complete lines; SSE ends lines with \\n, \\r\\n or a lone \\r.

    A line longer than `max_line` bytes (0: no bound) raises AnswerOversize as soon as that
    many bytes of it have arrived; a read without a line end only grows the tail (no copy of
    what came before), so a line that never ends costs linear time up to the bound.
    """

    def __init__(self, max_line: int = 0) -> None:
        self._tail = bytearray()
        self._max = max_line

    def feed(self, chunk: bytes) -> list[bytes]:
        if b"\n" not in chunk and b"\r" not in chunk:
            self._tail += chunk
            self._check(len(self._tail))
            return []
        data = bytes(self._tail + chunk)
        lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        self._tail = bytearray(lines.pop())
        self._check(max(len(self._tail), *(len(line) for line in lines)))
        return lines

    def rest(self) -> bytes:
        return bytes(self._tail)

    def _check(self, longest: int) -> None:
        if self._max and longest > self._max:
            raise AnswerOversize(f"an SSE line over {self._max} bytes")


class ChunkParser:
    """Gonka's SSE lines -> events. Tolerates key order, logprobs, signature ids, bursts.
    `max_chars` bounds a round's tool calls (ToolCallAssembler)."""

    def __init__(self, max_chars: int = 0) -> None:
        self.finished = False
        self.done = False
        self.text_seen = False
        self._calls = ToolCallAssembler(max_chars)

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
            if isinstance(choice, dict):
                events += self._choice(choice, field)
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
            events.append(UsageReport(Usage(int(prompt or 0), int(completion or 0))))
        return events

    def _choice(self, choice: dict[str, Any], field: str) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        delta = choice.get(field) or {}
        reasoning = delta.get("reasoning_content")
        if isinstance(reasoning, str) and reasoning:
            events.append(ReasoningDelta(reasoning))
        content = delta.get("content")
        if isinstance(content, str) and content:
            self.text_seen = True
            events.append(TextDelta(content))
        if field == "message":
            self._calls.feed_message(delta)
        else:
            self._calls.feed(delta.get("tool_calls"))
        reason = choice.get("finish_reason")
        if reason:
            self.finished = True
            if self._calls.pending:
                # Some servers end a round of calls with "stop": the calls decide.
                events.append(ToolCallsRequested(self._calls.finish()))
                reason = "tool_calls"
            events.append(Finished(_FINISH.get(reason, "other")))
        return events


def merged(events: list[StreamEvent]) -> list[StreamEvent]:
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
