"""MCP servers as tools: the servers named in MCP_SERVERS_FILE, through the official `mcp` SDK.

Servers are operator-chosen, but none may take the bot down:
- each starts in the background (the bot polls at once; a server's tools are offered when it is
  ready), in a task of its own that enters and leaves the SDK's client (its transport lives in
  anyio task groups, which must be left by the task that entered them);
- the tools' definitions may take at most `tools_tokens` of the context: the rest are left out,
  said in one log line per server;
- one message of a server is bounded in bytes (mcp_stdio, mcp_http), a call in time;
- a server that dies or cannot start is restarted with backoff; meanwhile its tools answer the
  model with a clear error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CONNECTION_CLOSED, CallToolResult, TextContent

from bot.adapters.tools.mcp_config import McpServerConfig, load_mcp_config, tool_name
from bot.adapters.tools.mcp_http import BoundedTransport
from bot.adapters.tools.mcp_stdio import bounded_stdio
from bot.core.budget import estimate_tokens
from bot.core.tools import StatusLine, Tool, ToolError, ToolSpec, short

log = logging.getLogger(__name__)

__all__ = ["McpHub", "McpLimits", "McpServerConfig", "McpTool", "load_mcp_config", "tool_name"]

MAX_LISTED = 10_000  # tools read from one server at most (a list may be paged without end)
SHOWN_NAMES = 20  # tools named in the "left out" line


@dataclass(frozen=True, slots=True)
class McpLimits:
    """What MCP servers may take: start and call time, one message's bytes, the context's
    tokens for their tools' definitions, and the backoff of restarts."""

    start_timeout: float = 30.0
    call_timeout: float = 14.0
    max_message_bytes: int = 4 * 1024 * 1024
    tools_tokens: int = 4000
    restart_min: float = 1.0
    restart_max: float = 300.0


class McpTool:
    """One tool of an MCP server, offered to the model like a built-in."""

    def __init__(self, server: McpServer, name: str, description: str,
                 schema: dict[str, Any]) -> None:  # fmt: skip
        self._server = server
        self._name = name
        self.spec = ToolSpec(tool_name(server.name, name), description or name, schema)

    def status(self, args: Mapping[str, Any]) -> StatusLine:
        return StatusLine("tool_other", f"{short(self._server.name, 24)}: {short(self._name, 32)}")

    async def run(self, args: Mapping[str, Any]) -> str:
        client = self._server.client()
        timeout = self._server.limits.call_timeout
        try:
            async with asyncio.timeout(timeout):
                result = await client.call_tool(self._name, dict(args))
        except TimeoutError:
            raise ToolError(f"{self._name}: no answer within {timeout:g} s") from None
        except MCPError as exc:
            if exc.code != CONNECTION_CLOSED:
                raise ToolError(f"{self._name} failed: {short(exc.message, 300)}") from None
            self._server.lost("closed the connection")
            raise ToolError(self._server.down_text()) from None
        except Exception as exc:  # a transport failure: the connection is gone
            self._server.lost(type(exc).__name__)
            raise ToolError(self._server.down_text()) from None
        text = _result_text(result)
        if result.is_error:
            raise ToolError(f"{self._name} failed: {text or 'no details'}")
        return text or "(no output)"


def _result_text(result: CallToolResult) -> str:
    parts = []
    for block in result.content:
        if isinstance(block, TextContent):
            parts.append(block.text)
        else:
            parts.append(f"[{block.type} content omitted]")
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    return "\n".join(parts)


class McpServer:
    """One server, kept running: started, and restarted with backoff whenever it ends."""

    def __init__(
        self,
        config: McpServerConfig,
        limits: McpLimits,
        on_first_start: Callable[[str, list[McpTool]], None],
    ) -> None:
        self.name = config.name
        self.limits = limits
        self._config = config
        self._on_first_start: Callable[[str, list[McpTool]], None] | None = on_first_start
        self._client: Client | None = None
        self._lost = asyncio.Event()

    def client(self) -> Client:
        if self._client is None:
            raise ToolError(self.down_text())
        return self._client

    def down_text(self) -> str:
        return f"MCP server {self.name} is not running now (it is being restarted); try later"

    def lost(self, why: str) -> None:
        """The connection ended (told by the transport or by a failed call)."""
        if self._client is not None:
            log.warning("mcp server lost name=%s why=%s", self.name, why)
        self._client = None
        self._lost.set()

    async def run(self, stop: asyncio.Event) -> None:
        delay = self.limits.restart_min
        while not stop.is_set():
            began = time.monotonic()
            try:
                await self._serve(stop)
            except Exception as exc:
                log.warning("mcp server down name=%s error=%s", self.name, _error_name(exc))
            self._client = None
            if stop.is_set():
                return
            if time.monotonic() - began > self.limits.restart_max:
                delay = self.limits.restart_min  # it ran well for a while: start over
            log.warning("mcp server restarting name=%s in_seconds=%g", self.name, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, self.limits.restart_max)

    async def _serve(self, stop: asyncio.Event) -> None:
        self._lost = asyncio.Event()
        async with contextlib.AsyncExitStack() as stack:
            client = Client(self._transport(stack))
            async with asyncio.timeout(self.limits.start_timeout):
                await stack.enter_async_context(client)
                tools = await self._list_tools(client)
            log.info("mcp server started name=%s tools=%d", self.name, len(tools))
            if self._on_first_start is not None:  # the names offered stay those of the first start
                self._on_first_start(self.name, tools)
                self._on_first_start = None
            self._client = client
            await _first_of(stop.wait(), self._lost.wait())
            self._client = None

    def _transport(self, stack: contextlib.AsyncExitStack) -> Any:
        config = self._config
        if config.command:
            return bounded_stdio(config, self.limits.max_message_bytes, self.lost)
        assert config.url is not None
        http = httpx2.AsyncClient(
            headers=dict(config.headers),
            timeout=httpx2.Timeout(30, read=300),
            transport=BoundedTransport(self.limits.max_message_bytes, self.lost),
        )
        stack.push_async_callback(http.aclose)
        return streamable_http_client(config.url, http_client=http)

    async def _list_tools(self, client: Client) -> list[McpTool]:
        tools: list[McpTool] = []
        cursor: str | None = None
        while len(tools) < MAX_LISTED:
            page = await client.list_tools(cursor=cursor)
            for tool in page.tools:
                schema = tool.input_schema or {"type": "object", "properties": {}}
                tools.append(McpTool(self, tool.name, tool.description or "", schema))
            cursor = page.next_cursor
            if not cursor:
                break
        return tools[:MAX_LISTED]


class McpHub:
    """Starts the configured servers in the background and offers each one's tools (through
    `offer`) once it is ready, within the tools' token budget; `aclose` stops them."""

    def __init__(
        self, configs: Sequence[McpServerConfig], offer: Callable[[list[Tool]], object],
        limits: McpLimits | None = None,
    ) -> None:  # fmt: skip
        self._limits = limits or McpLimits()
        self._servers = [McpServer(c, self._limits, self._admit) for c in configs]
        self._offer = offer
        self._tokens_left = self._limits.tools_tokens
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Start every server in the background; returns at once."""
        for server in self._servers:
            task = asyncio.create_task(server.run(self._stop), name=f"mcp:{server.name}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        self._stop.set()
        tasks = list(self._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=10)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    def _admit(self, server: str, tools: list[McpTool]) -> None:
        admitted: list[Tool] = []
        left: list[str] = []
        for tool in tools:
            cost = estimate_tokens(json.dumps(tool.spec.as_openai()))
            if cost <= self._tokens_left:
                admitted.append(tool)
                self._tokens_left -= cost
            else:
                left.append(tool.spec.name)
        self._offer(admitted)
        if left:
            shown = ",".join(left[:SHOWN_NAMES]) + (
                f",…(+{len(left) - SHOWN_NAMES})" if len(left) > SHOWN_NAMES else ""
            )
            log.warning(
                "mcp tools left out (their definitions would pass MCP_TOOLS_SHARE of "
                "CONTEXT_TOKEN_BUDGET) name=%s offered=%d left_out=%d tools=%s",
                server, len(admitted), len(left), shown,
            )  # fmt: skip


async def _first_of(*waits: Any) -> None:
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _error_name(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return type(exc).__name__
