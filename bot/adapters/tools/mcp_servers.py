"""MCP servers as tools: the servers named in MCP_SERVERS_FILE, through the official `mcp` SDK.

Each server runs in a task of its own that enters and leaves the SDK's client (its transport
lives in anyio task groups, which must be left by the task that entered them). A server that
fails to start is logged and skipped; one that dies later makes its tools answer with an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any

import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent

from bot.adapters.tools.mcp_config import McpServerConfig, load_mcp_config, tool_name
from bot.core.tools import Lang, ToolError, ToolSpec, short

log = logging.getLogger(__name__)

__all__ = ["McpHub", "McpServerConfig", "McpTool", "load_mcp_config", "tool_name"]


class McpTool:
    """One tool of an MCP server, offered to the model like a built-in."""

    def __init__(self, server: str, client: Client, name: str, description: str,
                 schema: dict[str, Any]) -> None:  # fmt: skip
        self._server = server
        self._client = client
        self._name = name
        self.spec = ToolSpec(tool_name(server, name), description or name, schema)

    def status(self, args: Mapping[str, Any], lang: Lang) -> str:
        return f"🛠 {short(self._server, 24)}: {short(self._name, 32)}…"

    async def run(self, args: Mapping[str, Any]) -> str:
        result = await self._client.call_tool(self._name, dict(args))
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


class McpHub:
    """Starts the configured servers, lists their tools, keeps them until `aclose`."""

    def __init__(self, configs: list[McpServerConfig], start_timeout: float = 30.0) -> None:
        self._configs = configs
        self._start_timeout = start_timeout
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> list[McpTool]:
        """The tools of every server that started; the others are logged and skipped."""
        futures = []
        for config in self._configs:
            ready: asyncio.Future[list[McpTool]] = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(self._serve(config, ready), name=f"mcp:{config.name}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            futures.append((config, ready, task))
        tools: list[McpTool] = []
        for config, ready, task in futures:
            try:
                tools += await asyncio.wait_for(asyncio.shield(ready), self._start_timeout)
            except Exception as exc:
                task.cancel()
                log.warning("mcp server skipped name=%s error=%s", config.name, _error_name(exc))
        return tools

    async def aclose(self) -> None:
        self._stop.set()
        tasks = list(self._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _serve(self, config: McpServerConfig, ready: asyncio.Future[list[McpTool]]) -> None:
        try:
            async with contextlib.AsyncExitStack() as stack:
                client = Client(_transport(config, stack))
                await stack.enter_async_context(client)
                tools = await _list_tools(config.name, client)
                log.info("mcp server started name=%s tools=%d", config.name, len(tools))
                ready.set_result(tools)
                await self._stop.wait()
        except Exception as exc:
            if not ready.done():
                ready.set_exception(exc)
            else:
                log.warning("mcp server ended name=%s error=%s", config.name, _error_name(exc))


def _error_name(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return type(exc).__name__


def _transport(config: McpServerConfig, stack: contextlib.AsyncExitStack) -> Any:
    if config.command:
        env = dict(config.env) if config.env else None
        return StdioServerParameters(
            command=config.command, args=list(config.args), env=env, cwd=config.cwd
        )
    assert config.url is not None
    http = httpx2.AsyncClient(headers=dict(config.headers), timeout=httpx2.Timeout(30, read=300))
    stack.push_async_callback(http.aclose)
    return streamable_http_client(config.url, http_client=http)


async def _list_tools(server: str, client: Client) -> list[McpTool]:
    tools: list[McpTool] = []
    cursor: str | None = None
    while True:
        page = await client.list_tools(cursor=cursor)
        for tool in page.tools:
            schema = tool.input_schema or {"type": "object", "properties": {}}
            tools.append(McpTool(server, client, tool.name, tool.description or "", schema))
        cursor = page.next_cursor
        if not cursor:
            return tools
