"""redis-server processes the tests start on free ports (skipped where it is not installed)."""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import pytest

REDIS_SERVER = shutil.which("redis-server")


def need_redis_server() -> str:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed: this test starts its own Redis")
    return REDIS_SERVER


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_redis(directory: Path, port: int, *extra: str) -> asyncio.subprocess.Process:
    """A redis-server with an append-only file in `directory`; returns once it accepts clients."""
    process = await asyncio.create_subprocess_exec(
        need_redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
        "--save", "", "--appendonly", "yes", "--appendfsync", "always", *extra,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.02)
            continue
        writer.close()
        await writer.wait_closed()
        return process
    process.kill()
    raise RuntimeError(f"redis-server did not start on port {port}")


async def stop_redis(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)
