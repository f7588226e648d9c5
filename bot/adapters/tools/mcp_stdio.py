"""A stdio transport for MCP servers with a bound on one message.

The SDK's own stdio client joins a server's output until a newline comes: a server writing one
endless line grew the bot by 176 MB and went on after the call's timeout. Here one line may be
at most `max_bytes` (asyncio's StreamReader holds at most about twice that); a longer one, or the
server's end, closes the connection: pending calls fail at once with "Connection closed", the
server's process group is stopped, and `on_end` is told (the hub restarts the server).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import mcp_types
from mcp.client._transport import TransportStreams
from mcp.client.stdio import get_default_environment
from mcp.shared.message import SessionMessage

from bot.adapters.tools.mcp_config import McpServerConfig

log = logging.getLogger(__name__)

STOP_GRACE = 2.0  # after stdin is closed, then again after SIGTERM


@asynccontextmanager
async def bounded_stdio(
    config: McpServerConfig, max_bytes: int, on_end: Callable[[str], None]
) -> AsyncIterator[TransportStreams]:
    """The server of `config` as a subprocess (its own process group), talking JSON-RPC lines."""
    assert config.command is not None
    process = await asyncio.create_subprocess_exec(
        config.command, *config.args,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        env=get_default_environment() | dict(config.env or {}), cwd=config.cwd,
        limit=max_bytes, start_new_session=True,
    )  # fmt: skip
    read_in, read_out = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_in, write_out = anyio.create_memory_object_stream[SessionMessage](0)

    async def reader() -> None:
        assert process.stdout is not None
        why = "exited"
        with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
            async with read_in:
                while True:
                    try:
                        line = await process.stdout.readline()
                    except ValueError:  # over the limit: the rest of the line is never read
                        why = f"sent a message over {max_bytes} bytes"
                        break
                    if not line:
                        break
                    await read_in.send(_parse(line))
        on_end(why)
        _signal(process, signal.SIGKILL if why != "exited" else None)

    async def writer() -> None:
        assert process.stdin is not None
        with contextlib.suppress(OSError, anyio.ClosedResourceError, anyio.BrokenResourceError):
            async with write_out:
                async for item in write_out:
                    data = item.message.model_dump_json(by_alias=True, exclude_unset=True)
                    process.stdin.write(data.encode() + b"\n")
                    await process.stdin.drain()

    async with anyio.create_task_group() as group:
        group.start_soon(reader)
        group.start_soon(writer)
        try:
            yield read_out, write_in
        finally:
            with anyio.CancelScope(shield=True):
                await _stop(process)
            group.cancel_scope.cancel()


def _parse(line: bytes) -> SessionMessage | Exception:
    try:
        return SessionMessage(mcp_types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError as exc:  # the session reports it; the connection goes on
        return exc


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Close stdin, then SIGTERM, then SIGKILL the process group, each after STOP_GRACE."""
    if process.stdin is not None:
        process.stdin.close()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE)
        except TimeoutError:
            _signal(process, sig)
        else:
            break
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), STOP_GRACE)
    _signal(process, signal.SIGKILL)  # what the server started itself, in its group


def _signal(process: asyncio.subprocess.Process, sig: signal.Signals | None) -> None:
    if sig is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
