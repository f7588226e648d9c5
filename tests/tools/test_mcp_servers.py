"""MCP servers as tools: a tiny MCPServer (the SDK's FastMCP) over stdio, and a broken one."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sys
from pathlib import Path

import pytest

from bot.adapters.tools.mcp_servers import (
    McpHub,
    McpLimits,
    McpServerConfig,
    load_mcp_config,
    tool_name,
)
from bot.core.models import ToolCall
from bot.core.tool_runner import ToolLimits, ToolRunner
from bot.core.tools import Tool, ToolRegistry
from tests.fakes import shown

BOUND = 120.0  # waits end on a signal; the bound only ends a test that would never pass


async def started(hub: McpHub, registry: ToolRegistry, count: int) -> dict[str, Tool]:
    """The tools offered once `count` of them are (servers start in the background)."""
    hub.start()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BOUND
    while len(registry.names) < count:
        assert loop.time() < deadline, registry.names
        await asyncio.sleep(0.05)
    return await registry.for_chat(1)


SERVER = '''
import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

app = MCPServer("demo")


@app.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@app.tool()
def refuse(reason: str) -> str:
    """Always fails."""
    raise ToolError(reason)


@app.tool()
async def slow() -> str:
    """Takes a minute."""
    await anyio.sleep(60)
    return "done"


app.run()
'''


@pytest.fixture
def server_script(tmp_path: Path) -> Path:
    script = tmp_path / "demo_server.py"
    script.write_text(SERVER)
    return script


async def test_stdio_server_tools_listed_and_called(
    server_script: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    registry = ToolRegistry([])
    hub = McpHub(
        [
            McpServerConfig("demo", command=sys.executable, args=(str(server_script),)),
            McpServerConfig(
                "broken", command=sys.executable, args=("-c", "import sys; sys.exit(3)")
            ),
            McpServerConfig("missing", command="/nonexistent/mcp-server"),
        ],
        registry.add,
        McpLimits(start_timeout=BOUND, restart_min=3600),
    )
    try:
        tools = await started(hub, registry, 3)
        assert sorted(tools) == ["demo__add", "demo__refuse", "demo__slow"]
        spec = tools["demo__add"].spec
        assert spec.description == "Add two integers."
        assert spec.parameters["required"] == ["a", "b"]
        assert shown(tools["demo__add"], {}, "en") == "🛠 demo: add…"
        runner = ToolRunner(ToolLimits(timeout=10))
        calls = [
            ToolCall("1", "demo__add", '{"a": 2, "b": 40}'),
            ToolCall("2", "demo__refuse", '{"reason": "not today"}'),
        ]
        added, refused = await runner.run(calls, tools)
        assert (added.content, added.outcome) == ("42", "ok")
        assert refused.outcome == "error" and "not today" in refused.content
        # Stop during an MCP call: cancelled at once, and the server still answers after.
        task = asyncio.create_task(runner.run([ToolCall("3", "demo__slow", "{}")], tools))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 2)
        [again] = await runner.run([ToolCall("4", "demo__add", '{"a": 1, "b": 1}')], tools)
        assert again.content == "2"
        assert "mcp server down name=broken" in caplog.text
        assert "mcp server down name=missing error=FileNotFoundError" in caplog.text
    finally:
        await hub.aclose()


def test_config_json_and_toml(tmp_path: Path) -> None:
    as_json = tmp_path / "mcp.json"
    as_json.write_text(json.dumps({"mcpServers": {
        "files": {"command": "npx", "args": ["-y", "server-files", "/data"], "env": {"A": "1"}},
        "remote": {"url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer x"}},
    }}))  # fmt: skip
    as_toml = tmp_path / "mcp.toml"
    as_toml.write_text(
        '[servers.files]\ncommand = "npx"\nargs = ["-y", "server-files", "/data"]\nenv = { A = "1" }\n'
        '[servers.remote]\nurl = "https://mcp.example.com/mcp"\n'
        'headers = { Authorization = "Bearer x" }\n'
    )
    for path in (as_json, as_toml):
        files, remote = load_mcp_config(path)
        assert files == McpServerConfig("files", "npx", ("-y", "server-files", "/data"), {"A": "1"})
        assert remote.url == "https://mcp.example.com/mcp"
        assert remote.headers == {"Authorization": "Bearer x"}
    bad = tmp_path / "bad.json"
    bad.write_text('{"servers": {"x": {"args": []}}}')
    with pytest.raises(ValueError, match="needs a 'command' or a 'url'"):
        load_mcp_config(bad)


def test_tool_names_are_valid_function_names() -> None:
    assert tool_name("my server", "read.file") == "my_server__read_file"
    long = tool_name("s" * 40, "t" * 40)
    assert len(long) == 64 and long != tool_name("s" * 40, "t" * 41)


HTTP_SERVER = """
import sys

from mcp.server.mcpserver import MCPServer

app = MCPServer("remote")


@app.tool()
def whoami() -> str:
    \"\"\"Says who it is.\"\"\"
    return "remote server"


app.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
"""


async def test_streamable_http_server(tmp_path: Path) -> None:
    script = tmp_path / "http_server.py"
    script.write_text(HTTP_SERVER)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(script), str(port),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            break
        url = f"http://127.0.0.1:{port}/mcp"
        registry = ToolRegistry([])
        hub = McpHub(
            [McpServerConfig("remote", url=url, headers={"X-Test": "1"})],
            registry.add,
            McpLimits(start_timeout=BOUND),
        )
        try:
            [tool] = (await started(hub, registry, 1)).values()
            assert tool.spec.name == "remote__whoami"
            assert await tool.run({}) == "remote server"
        finally:
            await hub.aclose()
    finally:
        process.terminate()
        await process.wait()
