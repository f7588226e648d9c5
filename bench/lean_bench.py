"""Lean benchmark: what `python -m bot` costs in CPU, memory and start-up, this tree next to a commit.

    python bench/lean_bench.py [--against COMMIT ...] [--chats 50] [--crowd 300] [--idle 10000]
                               [--starts 3] [--python PATH] [--redis-url URL] [--profile FILE]

The bot runs as `python -m bot`, the way a user starts it (tools on, the default; DATA_DIR in a
temporary folder: the embedded store), against the project's fake Telegram (flood limits on) and fake
Gonka, which run in this process; CPU and memory are read from /proc of the bot's process only.

  start to first getUpdates  spawning `python -m bot` until the fake Telegram sees getUpdates (best
                             and worst of --starts runs)
  N chats: bot CPU, peak RSS N private chats ask at once; 300-token answers at 50 tokens/s, 0.5 s to
                             the first token; CPU of the bot from the first question to the last
                             answer (a warm-up exchange first), VmHWM of the bot's main process
  crowd: peak RSS            the same with --crowd chats
  idle chats: RSS            --idle distinct chats each send one message (short answers, 200 at a
                             time); VmRSS once all are answered

--redis-url URL: the bot keeps its data in that Redis (its keys under a prefix, deleted after each
run) instead of the embedded store, so the idle chats' RSS is the bot's own per-chat memory.
--profile FILE: py-spy's raw samples of the bot during the N chats (py-spy installed in the venv;
LEAN_BENCH_SPY adds options, e.g. --native). LEAN_BENCH_LOG=FILE keeps the bot's log
(LEAN_BENCH_LOG_LEVEL, WARNING by default).

--against COMMIT (repeatable) extracts COMMIT (git archive) into a temporary folder and runs it on the current
venv when its uv.lock is this tree's (or it has none), else on a venv `uv sync --frozen` builds there.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.doubles.fake_gonka import FakeGonka, Reply  # noqa: E402
from tests.doubles.fake_telegram import FakeTelegramServer  # noqa: E402

ANSWER = ("Streaming answers feel faster because the user sees the first words at once. " * 16)[
    :1200
]  # ~300 tokens of 4 characters
FIRST_CHAT = 100_000
IDLE_BATCH = 200
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def memory_mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for {pid}")


def _bot_stderr() -> Any:
    """The bot's log: to the file LEAN_BENCH_LOG names (debugging a run), else nowhere."""
    path = os.environ.get("LEAN_BENCH_LOG")
    return open(path, "ab") if path else asyncio.subprocess.DEVNULL


class Tree:
    """A source tree of the bot and the Python that runs it."""

    def __init__(self, label: str, path: Path, python: str, redis_url: str | None = None) -> None:
        self.label, self.path, self.python = label, path, python
        self.redis_url = redis_url
        self.prefix = f"lean-bench-{os.getpid()}"  # the bot's keys, deleted after each run

    def env(self, telegram: FakeTelegramServer, gonka: FakeGonka, data_dir: str) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "GONKA_", "REDIS_"))
        }
        env.update(
            PYTHONPATH=str(self.path),
            BOT_TOKEN=telegram.token,
            TELEGRAM_API_URL=telegram.base_url,
            GONKA_API_KEY=gonka.api_key,
            GONKA_BASE_URL=gonka.base_url + "/v1",
            DATA_DIR=data_dir,
            LOG_LEVEL=os.environ.get("LEAN_BENCH_LOG_LEVEL", "WARNING"),
        )
        if self.redis_url:
            env.update(REDIS_URL=self.redis_url, REDIS_KEY_PREFIX=self.prefix)
        return env

    async def forget(self) -> None:
        """Delete what the bot kept in Redis (its keys under the prefix)."""
        if not self.redis_url:
            return
        from redis.asyncio import Redis

        client = Redis.from_url(self.redis_url)
        try:
            keys = [k async for k in client.scan_iter(match=f"{self.prefix}:*", count=1000)]
            for first in range(0, len(keys), 1000):
                await client.delete(*keys[first : first + 1000])
        finally:
            await client.aclose()


@asynccontextmanager
async def running_bot(tree: Tree, replies: list[Reply]) -> Any:
    """Fakes, then `python -m bot`; yields (telegram, gonka, pid, (seconds, CPU seconds) to the
    first getUpdates)."""
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        gonka.enqueue(*replies)
        with tempfile.TemporaryDirectory(prefix="lean-bench-") as data_dir:
            started = time.monotonic()
            process = await asyncio.create_subprocess_exec(
                tree.python, "-m", "bot", cwd=data_dir, env=tree.env(telegram, gonka, data_dir),
                stdout=asyncio.subprocess.DEVNULL, stderr=_bot_stderr(),
            )  # fmt: skip
            try:
                await telegram.wait_for(lambda: telegram.calls_of("getUpdates"), timeout=120)
                start = telegram.calls_of("getUpdates")[0].at - started
                yield telegram, gonka, process.pid, (start, cpu_seconds(process.pid))
            finally:
                process.terminate()
                await process.wait()
                await tree.forget()


async def ask(telegram: FakeTelegramServer, gonka: FakeGonka, chats: range) -> None:
    """Each chat of `chats` sends one message at once; returns when every answer is final."""
    finished = sum(1 for r in gonka.request_log if r.finished_at is not None)
    await asyncio.gather(*(telegram.send_text(c, f"question of chat {c}") for c in chats))

    def done() -> bool:
        ended = sum(1 for r in gonka.request_log if r.finished_at is not None) - finished
        return ended >= len(chats) and all(
            (m := telegram.bot_messages(c)) and not m[-1].streaming for c in chats
        )

    await telegram.wait_for(done, timeout=600)
    await asyncio.sleep(0.5)  # the bot's bookkeeping after the last answer (history, usage)


def answers(count: int) -> list[Reply]:
    return [Reply(text=ANSWER, ttft=0.5, token_delay=1 / 50, chunk_chars=4) for _ in range(count)]


def compile_bot(python: str, path: Path) -> None:
    """The bot's bytecode, written once as the image's install does (UV_COMPILE_BYTECODE): with
    PYTHONDONTWRITEBYTECODE set, each start would compile every module of bot/ from source."""
    subprocess.run([python, "-m", "compileall", "-q", "bot"], cwd=path, check=True)


@contextmanager
def profiled(pid: int, path: str | None) -> Iterator[None]:
    """py-spy records the bot (`path`: its raw output, for flame graphs or a top list) while
    the block runs; nothing when `path` is None."""
    if path is None:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    command = [
        spy,
        "record",
        "--pid",
        str(pid),
        "-r",
        "200",
        "-f",
        "raw",
        *os.environ.get("LEAN_BENCH_SPY", "").split(),
        "-o",
        path,
    ]
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        recorder.wait()


async def measure(
    tree: Tree, chats: int, crowd: int, idle: int, starts: int, profile: str | None = None
) -> dict[str, str]:
    figures: dict[str, str] = {}
    compile_bot(tree.python, tree.path)
    times, cpus = [0.0], [0.0]
    for _ in range(starts):
        async with running_bot(tree, []) as (_, _, _, (start, cpu)):
            times.append(start)
            cpus.append(cpu)
    if starts:
        times, cpus = times[1:], cpus[1:]
        figures["start to first getUpdates"] = f"{min(times):.2f}–{max(times):.2f} s"
        figures["start to first getUpdates: bot CPU"] = f"{min(cpus):.2f}–{max(cpus):.2f} s"
    for count, name in ((chats, f"{chats} chats"), (crowd, f"{crowd} chats (crowd)")):
        if not count:
            continue
        async with running_bot(tree, answers(count + 1)) as (telegram, gonka, pid, _):
            await ask(telegram, gonka, range(FIRST_CHAT - 1, FIRST_CHAT))  # warm-up
            cpu = cpu_seconds(pid)
            with profiled(pid, profile if count == chats else None):
                await ask(telegram, gonka, range(FIRST_CHAT, FIRST_CHAT + count))
            if count == chats:
                figures[f"{name}: bot CPU"] = f"{cpu_seconds(pid) - cpu:.2f} s"
            figures[f"{name}: peak RSS"] = f"{memory_mib(pid, 'VmHWM'):.0f} MiB"
    if idle:
        async with running_bot(tree, []) as (telegram, gonka, pid, _):
            before = memory_mib(pid, "VmRSS")
            for first in range(FIRST_CHAT, FIRST_CHAT + idle, IDLE_BATCH):
                await ask(telegram, gonka, range(first, min(first + IDLE_BATCH, FIRST_CHAT + idle)))
            after = memory_mib(pid, "VmRSS")
            figures[f"{idle} idle chats: RSS"] = f"{after:.0f} MiB (+{after - before:.0f} MiB)"
    return figures


@contextmanager
def commit_tree(commit: str, python: str | None, redis_url: str | None) -> Iterator[Tree]:
    """`commit` extracted to a temporary folder, with a Python that has its dependencies."""
    folder = Path(tempfile.mkdtemp(prefix="lean-bench-tree-"))
    try:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True
        )
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
        if python is None:
            lock = folder / "uv.lock"  # none before the lock file: run on this venv
            same = not lock.exists() or lock.read_bytes() == (ROOT / "uv.lock").read_bytes()
            python = sys.executable
            if not same:
                uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))  # make's venv
                subprocess.run([uv, "sync", "--frozen", "--no-dev"], cwd=folder, check=True)
                python = str(folder / ".venv" / "bin" / "python")
        yield Tree(commit, folder, python, redis_url)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def table(columns: list[tuple[str, dict[str, str]]]) -> str:
    rows = [f"| | {' | '.join(label for label, _ in columns)} |", "|---" * (len(columns) + 1) + "|"]
    for key in columns[0][1]:
        rows.append(f"| {key} | {' | '.join(f.get(key, '-') for _, f in columns)} |")
    return "\n".join(rows)


async def run(args: argparse.Namespace, head: str) -> str:
    trees = [Tree(f"this tree ({head})", ROOT, sys.executable, args.redis_url)]
    columns = []
    with ExitStack() as stack:
        for commit in reversed(args.against):
            trees.insert(0, stack.enter_context(commit_tree(commit, args.python, args.redis_url)))
        for tree in trees:
            figures = await measure(
                tree, args.chats, args.crowd, args.idle, args.starts, args.profile
            )
            columns.append((tree.label, figures))
            print(f"{tree.label}: {figures}", file=sys.stderr)
    return table(columns)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--against",
        metavar="COMMIT",
        action="append",
        default=[],
        help="also measure this commit, side by side (may be given more than once)",
    )
    parser.add_argument("--python", help="the Python for --against (default: see above)")
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--crowd", type=int, default=300)
    parser.add_argument("--idle", type=int, default=10_000)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument(
        "--redis-url",
        help="the bot keeps its data in this Redis (keys under a prefix of its own, deleted "
        "after each run; e.g. redis://127.0.0.1:6379/15) instead of the embedded store",
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="py-spy's raw samples of the bot during the N chats"
    )
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    head = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True
    ).stdout.strip()
    print(asyncio.run(run(args, head)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
