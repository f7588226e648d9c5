"""A fake Gonka proxy (OpenAI-compatible) on 127.0.0.1 that reproduces the wire behaviour
described in /work/shared/gonka-wire.md, failures included.

Tests queue ``Reply`` behaviours with ``FakeGonka.enqueue``; each chat-completion call
consumes one (an empty queue answers ``"Echo: <last user message>"``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

from aiohttp import web

from tests.doubles.fake_gonka_floods import Flood, serve_flood
from tests.doubles.qwen_tokens import content_text, count_chat, count_text, truncate_to_tokens

DEFAULT_MODELS = (
    "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8",
    "deepseek-ai/DeepSeek-V3.1",
    "moonshotai/Kimi-K2-Instruct",
)
PLAIN_ERROR = "Inference node response with an error"


def _model_missing(model: str) -> dict[str, Any]:
    message = f"model {model} is not available"
    error = {"message": message, "type": "invalid_request_error", "code": "model_not_found"}
    return {"error": error}


def litellm_invalid_model(model: str) -> dict[str, Any]:
    """LiteLLM 1.x's answer for a model it does not serve: 400, not 404 (its exact body)."""
    message = (
        f"Invalid model name passed in model={model}. Call `/v1/models` to view available "
        "models for your key."
    )
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": "400"}
    return {"error": error}


# LiteLLM's GET /health: 200 even when endpoints are unhealthy; the body says which.
LITELLM_HEALTH_UNHEALTHY = {
    "healthy_endpoints": [],
    "unhealthy_endpoints": [
        {"model": "openai/mock", "error": "litellm.APIConnectionError: Connection error."}
    ],
    "healthy_count": 0,
    "unhealthy_count": 1,
}
KEEPALIVE = b": keep-alive\n\n"  # an SSE comment: keeps proxies and read timeouts quiet

ERROR_BODIES: dict[int, Any] = {  # the three body shapes seen on Gonka proxies
    400: {"detail": "invalid request"},
    401: {"error": "Authorization is required"},
    402: {"error": "Insufficient balance"},
    404: _model_missing("requested"),
    429: {"error": "too many concurrent requests (24/24)"},
    500: {"error": f"{PLAIN_ERROR}: node returned status 500"},
    502: {"error": "upstream error: no host left"},
    503: {"detail": "all hosts are busy: queue is full"},
}
Ending = Literal["done", "cut", "reset", "close"]


@dataclass
class ToolCall:
    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)


@dataclass
class Reply:
    """One scripted answer. ``text=None`` means the default echo of the last user message."""

    text: str | None = None
    reasoning: str | None = None  # sent as ``reasoning_content`` deltas before the content
    think_in_content: bool = False  # ...or as ``<think>...</think>`` inside the content
    chunk_chars: int | list[str] = 4  # chars per content delta, or the explicit deltas
    ttft: float = 0.0  # after the 200 headers, before the first chunk
    token_delay: float = 0.0  # between writes
    burst: int = 1  # SSE events per TCP write
    finish_reason: str = "stop"
    send_usage: bool = True
    usage_override: dict[str, int] | None = None
    signature_id: bool = True  # base64 signature id instead of chatcmpl-...
    # failures before the 200
    status: int | None = None
    body: Any = None  # dict → JSON, str → text/plain; None → ERROR_BODIES[status]
    hang_before_first_byte: float = 0.0
    # failures after the 200, positions in characters of content
    cut_after: int | None = None  # clean EOF, no finish_reason, no [DONE]
    reset_after: int | None = None  # TCP reset
    error_event_after: int | None = None  # data: {"error": {...}} then EOF
    error_message: str = PLAIN_ERROR
    plain_error_after: int | None = None  # a non-JSON line then EOF
    plain_error_line: str = f"data: {PLAIN_ERROR}"  # drop "data: " for a raw line
    close_after: int | None = None  # FIN mid-body: no last chunk of the chunked encoding
    no_done: bool = False  # finish + usage but no [DONE]
    # a stall: after this many content chars, only SSE keep-alive comments, until the client
    # goes away (or `stall_for` seconds pass, then the rest of the answer)
    stall_after: int | None = None
    stall_for: float = 3600.0
    keepalive_interval: float = 0.05
    ignore_max_tokens: bool = False  # some upstreams do: the whole text, finish "stop"
    # emulated tool calling: ONE application/json chat.completion, even for stream=True
    tool_call_json: list[ToolCall] | None = None
    # native tool calling, streamed as vLLM does: per call a delta with id and name, then the
    # arguments in pieces of chunk_chars; after any text; finish_reason "tool_calls"
    tool_calls: list[ToolCall] | None = None
    flood: Flood | None = None  # a hostile answer that never ends (fake_gonka_floods.py)

    @classmethod
    def error(cls, status: int, body: Any = None) -> Reply:
        return cls(status=status, body=body)

    def failure(self) -> tuple[int, str] | None:
        """(content chars before the failure, kind) of the mid-stream failure, if any."""
        for kind in ("cut", "reset", "close", "error_event", "plain_error"):
            after: int | None = getattr(self, f"{kind}_after")
            if after is not None:
                return after, kind
        return None


@dataclass
class RequestRecord:
    body: dict[str, Any]
    received_at: float  # time.monotonic()
    stream: bool = False
    status: int | None = None
    reply: Reply | None = None
    sent_content: str = ""
    sent_reasoning: str = ""
    first_byte_at: float | None = None
    first_content_at: float | None = None  # first chunk carrying answer text
    finished_at: float | None = None
    completed: bool = False  # the scripted response was written to the end
    client_disconnected: bool = False
    disconnected_at: float | None = None
    sent_bytes: list[int] = field(default_factory=lambda: [0])  # of a flood


@dataclass
class _Frame:
    data: bytes
    content: str = ""
    reasoning: str = ""


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _event(obj: Any) -> bytes:
    return f"data: {_dumps(obj)}\n\n".encode()


def _split(text: str, chunking: int | list[str]) -> list[str]:
    if isinstance(chunking, int):
        size = max(1, chunking)
        return [text[i : i + size] for i in range(0, len(text), size)]
    pieces, rest = [], text
    for piece in chunking:
        if not rest:
            break
        pieces.append(rest[: len(piece)])
        rest = rest[len(piece) :]
    return [*pieces, rest] if rest else pieces


def _tool_call_frames(
    calls: list[ToolCall], step: int, chunk: Callable[[dict[str, Any]], bytes]
) -> list[_Frame]:
    frames = []
    for index, call in enumerate(calls):
        args = call.arguments
        text = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
        first = {"index": index, "id": f"chatcmpl-tool-{os.urandom(16).hex()}",
                 "type": "function", "function": {"name": call.name}}  # fmt: skip
        frames.append(_Frame(chunk({"tool_calls": [first]})))
        for piece in _split(text, step):
            delta = {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
            frames.append(_Frame(chunk(delta)))
    return frames


def _take_chars(pieces: list[str], limit: int) -> list[str]:
    out: list[str] = []
    for piece in pieces:
        if limit <= 0:
            break
        out.append(piece[:limit])
        limit -= len(out[-1])
    return out


def _batched(frames: Sequence[_Frame], size: int) -> Iterator[Sequence[_Frame]]:
    for i in range(0, len(frames), size):
        yield frames[i : i + size]


def prompt_tokens(body: dict[str, Any]) -> int:
    """The prompt as the server counts it: the messages, and the tool definitions the chat
    template renders into the prompt when the request offers `tools`."""
    tools = body.get("tools")
    return count_chat(body["messages"]) + (count_text(_dumps(tools)) if tools else 0)


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


class FakeGonka:
    def __init__(
        self,
        api_key: str = "sk-test-gonka",
        models: Sequence[str] = DEFAULT_MODELS,
        *,
        max_concurrent: int | None = None,  # beyond it: 429 "too many concurrent requests"
        force_usage: bool = True,  # the node adds usage even without stream_options
    ) -> None:
        self.api_key = api_key
        self.models: list[str] = list(models)
        self.max_concurrent = max_concurrent
        self.force_usage = force_usage
        self.rejected_params: set[str] = set()  # top-level params answered with 400
        self.queue: deque[Reply] = deque()
        self.request_log: list[RequestRecord] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.health_body: Any = {"status": "ok"}
        self.health_calls = 0
        self.model_list_calls = 0
        self.litellm_errors = False  # an unknown model gets LiteLLM's 400, not Gonka's 404
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._stopping = False
        self._idle = asyncio.Event()
        self._idle.set()

    # lifecycle -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> None:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_get("/health", self._health)
        app.router.add_get("/v1/models", self._list_models)
        app.router.add_post("/v1/chat/completions", self._chat)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=0.1, access_log=None
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        if self._runner is not None:
            self._stopping = True
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        await self.stop()

    # scripting and inspection -----------------------------------------------------------
    def enqueue(self, *replies: Reply) -> None:
        self.queue.extend(replies)

    @property
    def requests(self) -> list[dict[str, Any]]:
        return [record.body for record in self.request_log]

    @property
    def completion_calls(self) -> int:
        return len(self.request_log)

    async def wait_idle(self) -> None:
        """Wait until no chat completion is being served (disconnects are noticed async)."""
        await self._idle.wait()

    # handlers ---------------------------------------------------------------------------
    async def _health(self, request: web.Request) -> web.Response:
        self.health_calls += 1
        return web.json_response(self.health_body)

    async def _list_models(self, request: web.Request) -> web.Response:
        self.model_list_calls += 1
        created = int(time.time())
        data = [
            {"id": m, "object": "model", "created": created, "owned_by": m.split("/")[0]}
            for m in self.models
        ]
        return web.json_response({"object": "list", "data": data})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return web.json_response({"error": "Authorization is required"}, status=401)
        if auth.removeprefix("Bearer ").strip() != self.api_key:
            return web.json_response({"error": "Invalid API key"}, status=401)
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"detail": "invalid JSON body"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"detail": "body must be a JSON object"}, status=400)
        record = RequestRecord(body=body, received_at=time.monotonic())
        record.stream = bool(body.get("stream"))
        self.request_log.append(record)
        self.in_flight += 1
        self._idle.clear()
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            response = await self._serve(request, record)
            record.status = record.status or response.status
            return response
        except ConnectionResetError:  # noticed on a write or while polling the transport
            self._mark_disconnected(record)
            return web.Response(status=499)  # nobody is listening any more
        except asyncio.CancelledError:  # handler_cancellation: aiohttp saw the connection drop
            self._mark_disconnected(record)
            raise
        finally:
            record.finished_at = time.monotonic()
            self.in_flight -= 1
            if not self.in_flight:
                self._idle.set()

    def _mark_disconnected(self, record: RequestRecord) -> None:
        if not self._stopping and not record.client_disconnected:
            record.client_disconnected = True
            record.disconnected_at = time.monotonic()

    def _reject(self, body: dict[str, Any]) -> web.Response | None:
        rejected = sorted(self.rejected_params & body.keys())
        if rejected:
            detail = f"feature {rejected[0]} is currently rejected by the Gonka network"
            return web.json_response({"detail": detail}, status=400)
        limit = body.get("max_tokens", body.get("max_completion_tokens"))
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            return web.json_response({"detail": "max_tokens must be at least 1"}, status=400)
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return web.json_response({"detail": "messages must be a non-empty list"}, status=400)
        if body.get("model") not in self.models:
            if self.litellm_errors:
                return self._error(400, litellm_invalid_model(str(body.get("model"))))
            return self._error(404, _model_missing(str(body.get("model"))))
        if self.max_concurrent is not None and self.in_flight > self.max_concurrent:
            busy = f"too many concurrent requests ({self.max_concurrent}/{self.max_concurrent})"
            return web.json_response({"error": busy}, status=429)
        return None

    def _error(self, status: int, body: Any) -> web.Response:
        if body is None:
            body = ERROR_BODIES.get(status, {"error": f"status {status}"})
        if isinstance(body, str):
            return web.Response(status=status, text=body)
        return web.json_response(body, status=status)

    async def _serve(self, request: web.Request, record: RequestRecord) -> web.StreamResponse:
        body = record.body
        rejection = self._reject(body)
        if rejection is not None:
            return rejection
        reply = self.queue.popleft() if self.queue else Reply()
        record.reply = reply
        await self._pause(request, reply.hang_before_first_byte)
        if reply.status is not None:
            return self._error(reply.status, reply.body)
        if reply.flood is not None:
            record.status = 502 if reply.flood.kind == "error_body" else 200
            head = self._head(body, reply, "chat.completion")
            return await serve_flood(request, reply.flood, head, record.sent_bytes)
        if reply.tool_call_json is not None:
            return web.json_response(self._tool_completion(body, reply.tool_call_json))
        if not record.stream:
            return await self._complete(request, record, reply)
        return await self._stream(request, record, reply)

    # responses --------------------------------------------------------------------------
    def _plan_text(self, body: dict[str, Any], reply: Reply) -> tuple[str, str, str]:
        """(reasoning, content, finish_reason) after applying the request's max_tokens."""
        text = reply.text
        if text is None:
            chunks = reply.chunk_chars
            text = "".join(chunks) if isinstance(chunks, list) else None
        if text is None:
            text = f"Echo: {_last_user_text(body['messages'])}"
        reasoning = reply.reasoning or ""
        if reply.think_in_content and reasoning:
            text, reasoning = f"<think>\n{reasoning}\n</think>\n\n{text}", ""
        limit = body.get("max_tokens", body.get("max_completion_tokens"))
        if limit is None or reply.ignore_max_tokens:
            return reasoning, text, reply.finish_reason
        cut_reasoning = truncate_to_tokens(reasoning, limit)
        cut_text = truncate_to_tokens(text, limit - count_text(cut_reasoning))
        truncated = (cut_reasoning, cut_text) != (reasoning, text)
        return cut_reasoning, cut_text, "length" if truncated else reply.finish_reason

    def _usage(
        self, body: dict[str, Any], reasoning: str, content: str, reply: Reply
    ) -> dict[str, int]:
        prompt = prompt_tokens(body)
        completion = count_text(reasoning) + count_text(content)
        usage = {"prompt_tokens": prompt, "completion_tokens": completion}
        usage["total_tokens"] = prompt + completion
        return usage | (reply.usage_override or {})

    def _head(self, body: dict[str, Any], reply: Reply, obj: str) -> dict[str, Any]:
        raw = os.urandom(48 if reply.signature_id else 12)
        ident = base64.b64encode(raw).decode() if reply.signature_id else f"chatcmpl-{raw.hex()}"
        return {"id": ident, "object": obj, "created": int(time.time()), "model": body["model"]}

    def _tool_completion(self, body: dict[str, Any], calls: list[ToolCall]) -> Any:
        tool_calls = [
            {
                "id": f"call_{os.urandom(12).hex()}",
                "type": "function",
                "function": {
                    "name": call.name,
                    "arguments": call.arguments
                    if isinstance(call.arguments, str)
                    else json.dumps(call.arguments, ensure_ascii=False),
                },
            }
            for call in calls
        ]
        message = {"role": "assistant", "content": None, "tool_calls": tool_calls}
        usage = self._usage(body, "", _dumps(tool_calls), Reply())
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "tool_calls"}
        return self._head(body, Reply(), "chat.completion") | {"choices": [choice], "usage": usage}

    async def _complete(
        self, request: web.Request, record: RequestRecord, reply: Reply
    ) -> web.Response:
        await self._pause(request, reply.ttft)
        if reply.failure() is not None:  # a mid-stream failure kills a non-stream answer
            _reset(request)
            return web.Response(status=502)
        reasoning, content, finish = self._plan_text(record.body, reply)
        message: dict[str, Any] = {
            "role": "assistant",
            "content": content,
            "reasoning_content": reasoning or None,
            "tool_calls": [],
        }
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
        choice["stop_reason"] = None
        usage = self._usage(record.body, reasoning, content, reply)
        record.sent_content, record.sent_reasoning, record.completed = content, reasoning, True
        payload = self._head(record.body, reply, "chat.completion")
        return web.Response(
            text=_dumps(payload | {"choices": [choice], "usage": usage}),
            content_type="application/json",
        )

    def _frames(self, body: dict[str, Any], reply: Reply) -> tuple[list[_Frame], Ending]:
        reasoning, content, finish = self._plan_text(body, reply)
        head = self._head(body, reply, "chat.completion.chunk")

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            if finish_reason is not None:
                choice["stop_reason"] = None
            return _event(head | {"choices": [choice]})

        frames = [_Frame(chunk({"role": "assistant", "content": ""}))]
        step = reply.chunk_chars if isinstance(reply.chunk_chars, int) else 4
        for piece in _split(reasoning, step):
            frames.append(_Frame(chunk({"reasoning_content": piece}), reasoning=piece))
        pieces = _split(content, reply.chunk_chars)
        failure = reply.failure()
        if failure is not None:
            after, kind = failure
            for piece in _take_chars(pieces, after):
                frames.append(_Frame(chunk({"content": piece}), content=piece))
            if kind == "error_event":
                error = {"message": reply.error_message, "type": "server_error"}
                frames.append(_Frame(_event({"error": error})))
            elif kind == "plain_error":
                frames.append(_Frame(f"{reply.plain_error_line}\n\n".encode()))
            return frames, "reset" if kind == "reset" else "close" if kind == "close" else "cut"
        frames += [_Frame(chunk({"content": piece}), content=piece) for piece in pieces]
        if reply.tool_calls:
            frames += _tool_call_frames(reply.tool_calls, step, chunk)
            finish = "tool_calls"
        frames.append(_Frame(chunk({}, finish)))
        include = (body.get("stream_options") or {}).get("include_usage")
        if reply.send_usage and (self.force_usage or include):
            usage = self._usage(body, reasoning, content, reply)
            frames.append(_Frame(_event(head | {"choices": [], "usage": usage})))
        if not reply.no_done:
            frames.append(_Frame(b"data: [DONE]\n\n"))
        return frames, "done"

    async def _stream(
        self, request: web.Request, record: RequestRecord, reply: Reply
    ) -> web.StreamResponse:
        frames, ending = self._frames(record.body, reply)
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        record.status = 200
        await self._pause(request, reply.ttft)
        stalled = False
        for i, group in enumerate(_batched(frames, max(1, reply.burst))):
            if i:
                await self._pause(request, reply.token_delay)
            _check_alive(request)
            await response.write(b"".join(frame.data for frame in group))
            now = time.monotonic()
            record.first_byte_at = record.first_byte_at or now
            content = "".join(frame.content for frame in group)
            if content and record.first_content_at is None:
                record.first_content_at = now
            record.sent_content += content
            record.sent_reasoning += "".join(frame.reasoning for frame in group)
            stall = reply.stall_after
            if not stalled and stall is not None and len(record.sent_content) >= stall:
                stalled = True
                await self._keep_alive(request, response, reply)
        if ending == "reset":
            await asyncio.sleep(0.01)  # let the partial output reach the client first
            _reset(request)
            return response
        if ending == "close":
            await asyncio.sleep(0.01)
            if request.transport is not None:
                request.transport.close()  # a FIN inside the chunked body
            return response
        await response.write_eof()
        record.completed = ending == "done"
        return response

    async def _keep_alive(
        self, request: web.Request, response: web.StreamResponse, reply: Reply
    ) -> None:
        """Only SSE comments for `stall_for` seconds: bytes flow, content does not."""
        until = time.monotonic() + reply.stall_for
        while time.monotonic() < until:
            _check_alive(request)
            await response.write(KEEPALIVE)
            await self._pause(request, reply.keepalive_interval)

    async def _pause(self, request: web.Request, seconds: float) -> None:
        """Sleep, but notice a client disconnect within ~10 ms."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            _check_alive(request)
            await asyncio.sleep(min(left, 0.01))


def _check_alive(request: web.Request) -> None:
    transport = request.transport
    if transport is None or transport.is_closing():
        raise ConnectionResetError("client disconnected")


def _reset(request: web.Request) -> None:
    """Abort the connection with an RST (SO_LINGER 0) instead of a FIN."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
