"""`python -m bot` as a subprocess, the way a user starts it, with its output collected."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# Importing aiogram and openai takes ~4 s of CPU: on a loaded machine far longer. Waits are on a
# signal and return as soon as it comes; the bound only ends a test that would never pass.
START_BOUND = 120.0


def bot_env(**values: str) -> dict[str, str]:
    """The current environment without the bot's own variables, plus `values`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BOT_", "GONKA_", "REDIS_", "WEBHOOK_", "HTTP_", "LOG_"))
    }
    env.update(values)
    env["PYTHONPATH"] = str(ROOT)
    return env


async def run_bot(
    cwd: Path, env: dict[str, str], *args: str, timeout: float = START_BOUND
) -> tuple[int, str, str]:
    """Run `python -m bot ARGS` to its end: exit code, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@dataclass
class BotProcess:
    """A running `python -m bot` whose output (stdout and stderr, merged) is read as it comes."""

    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, cwd: Path, env: dict[str, str]) -> BotProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=cwd, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        running = cls(process)
        running.reader = asyncio.create_task(running._read())
        return running

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            self.lines.append(line.decode(errors="replace"))

    @property
    def output(self) -> str:
        return "".join(self.lines)

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = START_BOUND) -> None:
        """Until `predicate()` holds; fails at once, with the output, if the bot exits."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if self.process.returncode is not None or (self.reader and self.reader.done()):
                await self.process.wait()
                raise AssertionError(f"the bot exited ({self.process.returncode}):\n{self.output}")
            if loop.time() > deadline:
                raise AssertionError(f"not seen within {timeout} s:\n{self.output[-3000:]}")
            await asyncio.sleep(0.05)

    async def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then the exit code (killed if it does not stop within `timeout`)."""
        if self.process.returncode is None:
            self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        if self.reader is not None:
            await self.reader
        assert self.process.returncode is not None
        return self.process.returncode
