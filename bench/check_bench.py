"""Wall time of `python -m bot check` against the local doubles (issue 19: under 4 s).

    python bench/check_bench.py [--runs 5]

Each run is a fresh `python -m bot check` subprocess (imports included), with Telegram and
Gonka answering (the fakes run in this process). Prints each run's wall and CPU time, and the
median. On a loaded machine the figures grow with the load: note `uptime` beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.doubles.fake_gonka import FakeGonka  # noqa: E402
from tests.doubles.fake_telegram import FakeTelegramServer  # noqa: E402
from tests.e2e.bot_process import bot_env  # noqa: E402


async def one_run(env: dict[str, str], cwd: Path) -> tuple[float, float, int]:
    before = os.times()
    began = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "check", cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    wall = time.perf_counter() - began
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    if process.returncode != 0:
        print(out.decode(), err.decode(), file=sys.stderr)
    return wall, cpu, process.returncode or 0


async def main(runs: int) -> None:
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        env = bot_env(
            BOT_TOKEN=telegram.token, TELEGRAM_API_URL=telegram.base_url,
            GONKA_API_KEY=gonka.api_key, GONKA_BASE_URL=gonka.base_url + "/v1",
        )  # fmt: skip
        walls = []
        with tempfile.TemporaryDirectory() as cwd:
            for number in range(1, runs + 1):
                wall, cpu, code = await one_run(env, Path(cwd))
                walls.append(wall)
                print(f"run {number}: wall {wall:.2f} s, cpu {cpu:.2f} s, exit {code}")
    print(f"median wall {statistics.median(walls):.2f} s over {runs} runs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    # The bot's bytecode, written once as the image's install does (UV_COMPILE_BYTECODE): with
    # PYTHONDONTWRITEBYTECODE set, each run would compile every module of bot/ from source.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "bot"], cwd=ROOT, check=True)
    asyncio.run(main(parser.parse_args().runs))
