"""MCP servers are operator-chosen, but none may take the bot down (issue 25): too many tools,
an endless line, a server that hangs at start, a server that dies. The servers here are small
JSON-RPC scripts speaking MCP over stdio."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.adapters.tools.factory import build_toolbox
from bot.adapters.tools.mcp_servers import McpHub, McpLimits, McpServerConfig
from bot.config_tools import ToolSettings
from bot.core.budget import estimate_tokens
from bot.core.models import ToolCall
from bot.core.tool_runner import ToolLimits, ToolRunner
from bot.core.tools import ToolError, ToolRegistry
from bot.workers.pool import WorkerPool

# Waits end on a signal; the bound only ends a test that would never pass.
BOUND = 120.0

RAW_SERVER = r"""
import json, os, sys, time

mode, count, marker = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(marker + ".pid", "a") as pids:
    pids.write(f"{os.getpid()}\n")


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    msg = json.loads(line)
    method, mid = msg.get("method"), msg.get("id")
    if method == "initialize":
        if mode == "hang":
            time.sleep(3600)
        version = msg["params"]["protocolVersion"]
        info = {"name": "raw", "version": "1"}
        send({"jsonrpc": "2.0", "id": mid, "result": {
            "protocolVersion": version, "capabilities": {"tools": {}}, "serverInfo": info}})
    elif method == "tools/list":
        tools = [{"name": f"tool_{i}", "description": f"Tool number {i}: it does thing {i}.",
                  "inputSchema": {"type": "object", "properties": {"x": {"type": "string"}}}}
                 for i in range(count)]
        send({"jsonrpc": "2.0", "id": mid, "result": {"tools": tools}})
    elif method == "tools/call":
        if mode == "flood":  # one line that never ends
            sys.stdout.write('{"jsonrpc": "2.0", "id": %d, "result": {"content": [' % mid)
            sys.stdout.write('{"type": "text", "text": "')
            while True:
                sys.stdout.write("A" * 65536)
        if mode == "die" and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(3)
        text = f"pong from {os.getpid()}"
        send({"jsonrpc": "2.0", "id": mid, "result": {"content": [{"type": "text", "text": text}]}})
    elif mid is not None:
        send({"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": "no such method"}})
"""


@pytest.fixture
def raw_server(tmp_path: Path) -> Callable[..., McpServerConfig]:
    script = tmp_path / "raw_server.py"
    script.write_text(RAW_SERVER)

    def config(name: str, mode: str = "ok", count: int = 2) -> McpServerConfig:
        marker = str(tmp_path / f"{name}.marker")
        return McpServerConfig(name, sys.executable, (str(script), mode, str(count), marker))

    return config


def pids(tmp_path: Path, name: str) -> list[int]:
    file = tmp_path / f"{name}.marker.pid"
    return [int(line) for line in file.read_text().split()] if file.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) is not running either.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


async def until(predicate: Callable[[], object], timeout: float = BOUND) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "not seen in time"
        await asyncio.sleep(0.05)


async def test_a_server_with_2000_tools_is_capped_to_a_share_of_the_context(
    tmp_path: Path,
    raw_server: Callable[..., McpServerConfig],
    caplog: pytest.LogCaptureFixture,
    jobs: WorkerPool,
) -> None:
    # 2,000 tools made every message "too long (limit 0)": their definitions took the budget.
    caplog.set_level(logging.INFO)
    mcp_file = tmp_path / "mcp.json"
    big = raw_server("big", count=2000)
    mcp_file.write_text(
        json.dumps({"servers": {"big": {"command": big.command, "args": big.args}}})
    )
    settings = ToolSettings(tools="calculate", mcp_servers_file=mcp_file, mcp_tools_share=0.25)  # type: ignore[call-arg]
    toolbox = await build_toolbox(settings, jobs, context_budget=16000)
    try:
        await until(lambda: len(toolbox.registry.names) > 1)
        tools = await toolbox.registry.for_chat(1)
        specs = [tool.spec.as_openai() for tool in tools.values()]
        assert "calculate" in tools and 1 < len(tools) < 2000
        assert estimate_tokens(json.dumps(specs)) <= 16000 * 0.25
        [line] = [r.getMessage() for r in caplog.records if "mcp tools left out" in r.getMessage()]
        assert f"left_out={2001 - len(tools)}" in line and "big__tool_1999" not in line
        assert "big__tool_" in line and "MCP_TOOLS_SHARE" in line
    finally:
        await toolbox.aclose()


async def test_an_endless_line_stops_the_server_and_fails_the_call_while_others_answer(
    tmp_path: Path, raw_server: Callable[..., McpServerConfig]
) -> None:
    # An endless line grew the bot by 176 MB and went on after the call's timeout.
    registry = ToolRegistry([])
    limits = McpLimits(max_message_bytes=256 * 1024, restart_min=3600)
    hub = McpHub([raw_server("flood", "flood"), raw_server("calm")], registry.add, limits)
    hub.start()
    try:
        await until(lambda: len(registry.names) == 4)
        tools = await registry.for_chat(1)
        runner = ToolRunner(ToolLimits(timeout=BOUND))
        flood = asyncio.create_task(runner.run([ToolCall("1", "flood__tool_0", "{}")], tools))
        [calm] = await runner.run([ToolCall("2", "calm__tool_0", "{}")], tools)
        assert calm.outcome == "ok" and calm.content.startswith("pong")
        [flooded] = await flood
        assert flooded.outcome == "error" and "flood" in flooded.content
        [pid] = pids(tmp_path, "flood")
        await until(lambda: not alive(pid))
        # Meanwhile (it restarts only after the backoff) its tools answer with a clear error.
        with pytest.raises(ToolError, match="MCP server flood is not running now"):
            await tools["flood__tool_0"].run({})
    finally:
        await hub.aclose()


async def test_a_server_hanging_at_start_does_not_hold_up_the_others(
    tmp_path: Path, raw_server: Callable[..., McpServerConfig], jobs: WorkerPool
) -> None:
    # One that hangs at start delayed start-up by its 30 s start timeout.
    mcp_file = tmp_path / "mcp.json"
    hang, good = raw_server("hang", "hang"), raw_server("good")
    servers = {c.name: {"command": c.command, "args": c.args} for c in (hang, good)}
    mcp_file.write_text(json.dumps({"servers": servers}))
    settings = ToolSettings(tools="calculate", mcp_servers_file=mcp_file)  # type: ignore[call-arg]
    # build_toolbox returns before any server is ready (before the slowest, at 30 s, before).
    toolbox = await asyncio.wait_for(build_toolbox(settings, jobs), BOUND)
    try:
        assert toolbox.registry.names == ["calculate"]
        await until(lambda: "good__tool_0" in toolbox.registry.names)
        assert not [name for name in toolbox.registry.names if name.startswith("hang")]
    finally:
        await toolbox.aclose()
    for pid in pids(tmp_path, "hang") + pids(tmp_path, "good"):
        await until(lambda pid=pid: not alive(pid))  # stopped at shutdown


async def test_a_server_that_dies_is_restarted_and_says_so_meanwhile(
    tmp_path: Path, raw_server: Callable[..., McpServerConfig], caplog: pytest.LogCaptureFixture
) -> None:
    # A server that died answered with errors until the bot restarted.
    registry = ToolRegistry([])
    hub = McpHub([raw_server("mortal", "die")], registry.add, McpLimits(restart_min=0.5))
    hub.start()
    try:
        await until(lambda: registry.names)
        tool = (await registry.for_chat(1))["mortal__tool_0"]
        with pytest.raises(ToolError, match="MCP server mortal is not running now"):
            await tool.run({})  # it dies during the call
        with pytest.raises(ToolError, match="being restarted"):
            await tool.run({})
        await until(lambda: len(pids(tmp_path, "mortal")) == 2 and "restarting" in caplog.text)
        first, second = pids(tmp_path, "mortal")
        answer = ""
        while not answer:
            try:
                answer = await tool.run({})
            except ToolError:
                await asyncio.sleep(0.05)
        assert answer == f"pong from {second}" and not alive(first)
        assert "mcp server restarting name=mortal in_seconds=0.5" in caplog.text
    finally:
        await hub.aclose()


def test_mcp_is_imported_only_when_servers_are_configured(tmp_path: Path) -> None:
    # The SDK costs ~53 MiB; it was imported by every start.
    code = (
        "import asyncio, sys\n"
        "from bot.lifecycle import App\n"
        "from bot.adapters.tools.factory import build_toolbox\n"
        "from bot.config_tools import ToolSettings\n"
        "from bot.workers.pool import WorkerLimits, WorkerPool\n"
        "jobs = WorkerPool(WorkerLimits())\n"
        "box = asyncio.run(build_toolbox(ToolSettings(tools='calculate'), jobs))\n"
        "asyncio.run(box.aclose())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mcp', 'mcp_types')))\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
        check=True, timeout=BOUND,
    )  # fmt: skip
    assert out.stdout.strip() == "[]", out.stdout
