"""An MCP server over HTTP is bounded like one over stdio: one message is at most
`max_message_bytes`, the rest is never read, and the server's other callers are told at once.
The server here is a small aiohttp app speaking MCP's streamable HTTP (JSON answers)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from aiohttp import web

from bot.adapters.tools.mcp_http import BoundedTransport, MessageTooBig
from bot.adapters.tools.mcp_servers import McpHub, McpLimits, McpServerConfig
from bot.core.models import ToolCall
from bot.core.tool_runner import ToolLimits, ToolRunner
from bot.core.tools import ToolRegistry
from tests.tools.test_mcp_hardening import until

FLOOD_BYTES = 64 * 1024 * 1024  # what the server would send for one call
LIMIT = 256 * 1024


class RawHttpServer:
    """MCP over streamable HTTP, by hand: `flood__big` answers with FLOOD_BYTES of text."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent = 0  # bytes of the flood written to the socket

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.method != "POST":
            return web.Response(status=405)
        message: dict[str, Any] = await request.json()
        method, mid = message.get("method"), message.get("id")
        if mid is None:
            return web.Response(status=202)
        if method == "initialize":
            info = {"name": self.name, "version": "1"}
            version = message["params"]["protocolVersion"]
            capabilities = {"tools": {}}
            result = {"protocolVersion": version, "capabilities": capabilities, "serverInfo": info}
            return _json(mid, result)
        if method == "tools/list":
            schema = {"type": "object", "properties": {}}
            return _json(
                mid, {"tools": [{"name": "big", "description": "Big.", "inputSchema": schema}]}
            )
        if method != "tools/call":
            error = {"code": -32601, "message": "no such method"}
            return web.json_response({"jsonrpc": "2.0", "id": mid, "error": error})
        if self.name != "flood":
            return _json(mid, {"content": [{"type": "text", "text": f"pong from {self.name}"}]})
        return await self._flood(request, mid)

    async def _flood(self, request: web.Request, mid: int) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        head = json.dumps({"jsonrpc": "2.0", "id": mid, "result": {"content": [{"type": "text"}]}})
        await response.write(head[: -len("}]}}")].encode() + b', "text": "')
        chunk = b"A" * 65536
        try:
            while self.sent < FLOOD_BYTES:
                await response.write(chunk)
                self.sent += len(chunk)
            await response.write(b'"}]}}')
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client hung up
        return response


def _json(mid: int, result: dict[str, Any]) -> web.Response:
    return web.Response(
        text=json.dumps({"jsonrpc": "2.0", "id": mid, "result": result}),
        content_type="application/json",
    )


@pytest.fixture
async def servers() -> AsyncIterator[dict[str, tuple[RawHttpServer, str]]]:
    running: dict[str, tuple[RawHttpServer, str]] = {}
    runners = []
    for name in ("flood", "calm"):
        server = RawHttpServer(name)
        app = web.Application()
        app.router.add_route("*", "/mcp", server.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        running[name] = (server, f"http://127.0.0.1:{port}/mcp")
        runners.append(runner)
    yield running
    for runner in runners:
        await runner.cleanup()


async def test_an_oversized_http_answer_is_cut_and_fails_the_call_while_others_answer(
    servers: dict[str, tuple[RawHttpServer, str]],
) -> None:
    flood = servers["flood"][0]
    configs = [McpServerConfig(name, url=url) for name, (_, url) in servers.items()]
    registry = ToolRegistry([])
    limits = McpLimits(max_message_bytes=LIMIT, restart_min=3600, start_timeout=30)
    hub = McpHub(configs, registry.add, limits)
    hub.start()
    try:
        await until(lambda: len(registry.names) == 2)
        tools = await registry.for_chat(1)
        runner = ToolRunner(ToolLimits(timeout=30))
        call = ToolCall("1", "flood__big", "{}")
        flooded_task = asyncio.create_task(runner.run([call], tools))
        [calm] = await runner.run([ToolCall("2", "calm__big", "{}")], tools)
        assert calm.outcome == "ok" and calm.content == "pong from calm"
        [flooded] = await asyncio.wait_for(flooded_task, 10)
        assert flooded.outcome == "error" and "flood" in flooded.content
        # The rest is never read: what left the server is the limit and the sockets' buffers.
        await asyncio.sleep(0.5)
        assert flood.sent < 16 * 1024 * 1024, flood.sent
    finally:
        await hub.aclose()


class _Chunks(httpx2.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks, self.taken = chunks, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.taken += 1
            yield chunk


async def _read(chunks: list[bytes], content_type: str) -> tuple[int, list[str], int]:
    inner = _Chunks(chunks)
    told: list[str] = []

    async def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": content_type}, stream=inner)

    transport = BoundedTransport(100, told.append, httpx2.MockTransport(handler))
    async with httpx2.AsyncClient(transport=transport) as client:
        try:
            response = await client.get("http://mcp.test/mcp")
            return len(response.content), told, inner.taken
        except MessageTooBig:
            return -1, told, inner.taken


async def test_an_event_stream_is_bounded_per_event_not_per_response() -> None:
    event = b"event: message\ndata: " + b"x" * 40 + b"\n\n"
    many = [event] * 50  # 3 KB in all, each event under the limit
    assert await _read(many, "text/event-stream") == (len(event) * 50, [], 50)
    split = [event[:-1], event[-1:] + event[:-1], event[-1:] + event]  # the end straddles chunks
    assert (await _read(split, "text/event-stream"))[0] == len(event) * 3
    big = [b"data: " + b"y" * 60, b"y" * 60, b"never read\n\n"]  # one event of 126 bytes...
    assert await _read(big, "text/event-stream") == (-1, ["a message over 100 bytes"], 2)
    body = [b"{" + b" " * 60, b" " * 60, b"}"]
    assert await _read(body, "application/json") == (-1, ["a message over 100 bytes"], 2)
