"""A hostile upstream for the fake Gonka: answers that never end, sent as fast as the client
reads them, until it stops reading (or `Flood.size` bytes, so a client without limits ends).

- ``tool_args``: one streamed tool call whose arguments never end (4 KiB fragments);
- ``sse_line``: one SSE ``data:`` line that never ends (no newline, ever);
- ``json_body``: one ``application/json`` chat.completion to a stream request, its content
  never ending (a proxy emulating tools answers so);
- ``reasoning``: ``reasoning_content`` deltas that never end;
- ``error_body``: a 502 whose error page never ends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

FloodKind = Literal["tool_args", "sse_line", "json_body", "reasoning", "error_body"]
FRAGMENT = 4096


@dataclass
class Flood:
    kind: FloodKind
    size: int = 256 * 1024 * 1024  # bytes at most (a bot that reads on would get them all)
    piece: int = 64 * 1024  # bytes per write


def _sse(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


def _chunk(head: dict[str, Any], delta: dict[str, Any], finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return _sse(head | {"object": "chat.completion.chunk", "choices": [choice]})


def _repeat(part: bytes) -> Iterator[bytes]:
    while True:
        yield part


def _body(kind: FloodKind, head: dict[str, Any]) -> tuple[bytes, Iterator[bytes]]:
    """The start of the answer, then what repeats for ever."""
    filler = b"a" * FRAGMENT
    if kind == "error_body":
        return b'{"error": "upstream error: ', _repeat(filler)
    if kind == "json_body":
        choice = b'{"choices":[{"index":0,"finish_reason":null,"message":{"role":"assistant",'
        return choice + b'"content":"', _repeat(filler)
    if kind == "sse_line":
        return b'data: {"choices":[{"index":0,"delta":{"content":"', _repeat(filler)
    if kind == "reasoning":
        return _chunk(head, {"role": "assistant", "content": ""}), _repeat(
            _chunk(head, {"reasoning_content": "a" * FRAGMENT})
        )
    call = {"index": 0, "id": "chatcmpl-tool-flood", "type": "function"}
    first = _chunk(head, {"tool_calls": [call | {"function": {"name": "web_search"}}]})
    opening = {"tool_calls": [{"index": 0, "function": {"arguments": '{"query": "'}}]}
    fragment = {"tool_calls": [{"index": 0, "function": {"arguments": "a" * FRAGMENT}}]}
    return first + _chunk(head, opening), _repeat(_chunk(head, fragment))


async def serve_flood(
    request: web.Request, flood: Flood, head: dict[str, Any], sent: list[int]
) -> web.StreamResponse:
    """Write the flood until the client goes away or `flood.size` bytes; `sent[0]` counts the
    bytes written. A client that goes away ends it with ConnectionResetError."""
    kind = flood.kind
    json_body = kind in ("json_body", "error_body")
    content_type = "application/json" if json_body else "text/event-stream"
    status = 502 if kind == "error_body" else 200
    response = web.StreamResponse(status=status, headers={"Content-Type": content_type})
    await response.prepare(request)
    start, rest = _body(kind, head)
    buffer = bytearray(start)
    try:
        while sent[0] < flood.size:
            while len(buffer) < flood.piece:
                buffer += next(rest)
            await response.write(bytes(buffer))
            sent[0] += len(buffer)
            buffer.clear()
    except ConnectionError as exc:  # aiohttp's "Connection lost" is not always a reset
        raise ConnectionResetError("client disconnected") from exc
    await response.write_eof()  # no ending: the answer is broken off where the size ran out
    return response
