"""Issue 25: the hostile inputs replayed against the real bot while another user chats.

    .venv/bin/python bench/hostile_bench.py [--chats 10]

The bot runs as its own process (`python -m bot`'s code path: settings from the environment,
the composition root, polling) against fake Telegram, fake Gonka and a fake web server in this
process. The one change: fetch_url may reach the fake web server on 127.0.0.1 (the bot refuses
loopback addresses; tests do the same with `allow`). Replayed at once: fetch_url of a crafted
2 MB page twelve times in one round, the calculate expressions that froze the bot, six 20 KB
PDFs of 50 pages sharing one 5 MB content stream, the DOCX zip bomb, an .html of "</". Reported:
the other user's answer times (send -> the answer's final message), peak RSS of the bot's main
process and of its workers (sampled every 50 ms from /proc), and an answer at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:  # the driver imports them; the bot process must not (its RSS is measured)
    from tests.doubles.fake_gonka import FakeGonka
    from tests.doubles.fake_pages import PageServer
    from tests.doubles.fake_telegram import FakeTelegramServer

OTHER = 4242


async def run_bot(page_port: int) -> None:
    """The bot, as `python -m bot` runs it, with fetch_url let through to the fake web server."""
    from bot.__main__ import load_settings
    from bot.adapters.tools.fetch_url import FetchUrlTool
    from bot.app import build_app
    from bot.logging_setup import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, settings.secrets())
    app = build_app(settings)
    await app.open_tools()
    assert app.toolbox is not None and app.jobs is not None
    app.toolbox.registry._tools["fetch_url"] = FetchUrlTool(
        allow={("127.0.0.1", page_port)}, jobs=app.jobs
    )
    try:
        await app.run()
    finally:
        await app.close()


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(") ", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


class Sampler:
    """Peak RSS of the bot's main process, of any one worker, and of all together."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.main = self.worker = self.total = 0
        self.workers_seen: set[int] = set()

    async def run(self) -> None:
        while True:
            main = rss_kib(self.pid)
            workers = {pid: rss_kib(pid) for pid in children(self.pid)}
            self.workers_seen |= set(workers)
            self.main = max(self.main, main)
            self.worker = max([self.worker, *workers.values()])
            self.total = max(self.total, main + sum(workers.values()))
            await asyncio.sleep(0.05)


class Asker:
    """The other user: each question's seconds to the bot's first call in the chat (a draft or
    the typing action) and to the answer's final message."""

    def __init__(self, telegram: FakeTelegramServer) -> None:
        self.telegram = telegram
        self.first: list[float] = []
        self.final: list[float] = []

    async def ask(self, text: str) -> float:
        telegram = self.telegram
        before = len(telegram.bot_messages(OTHER))
        calls = len(telegram.calls)
        started = time.perf_counter()
        await telegram.send_text(OTHER, text, user_id=OTHER)

        def reacted() -> bool:
            return any(c.params.get("chat_id") == OTHER for c in telegram.calls[calls:])

        await telegram.wait_for(reacted, timeout=120)
        self.first.append(time.perf_counter() - started)
        await telegram.wait_for(lambda: len(telegram.bot_messages(OTHER)) > before, timeout=120)
        self.final.append(time.perf_counter() - started)
        return self.final[-1]


async def hostile(telegram: FakeTelegramServer, gonka: FakeGonka, pages: PageServer) -> None:
    """Start every hostile input (none is awaited to its end)."""
    from tests.doubles.fake_gonka import Reply, ToolCall
    from tests.doubles.hostile_files import (
        HOSTILE_EXPRESSIONS,
        docx_bomb,
        end_tag_flood,
        shared_stream_pdf,
    )
    from tests.unit.test_documents import make_docx

    await telegram.send_document(3009, docx_bomb(make_docx(["x"])), "bomb.docx", user_id=3009)
    await telegram.send_document(3010, end_tag_flood(), "flood.html", user_id=3010)
    url = pages.url("/crafted")
    gonka.enqueue(Reply(tool_calls=[ToolCall("fetch_url", {"url": url}) for _ in range(12)]))
    await telegram.send_text(3001, "read these", user_id=3001)
    await telegram.wait_for(lambda: not gonka.queue, timeout=60)
    calls = [ToolCall("calculate", {"expression": e}) for e in HOSTILE_EXPRESSIONS]
    gonka.enqueue(Reply(tool_calls=calls))
    await telegram.send_text(3002, "calculate these", user_id=3002)
    await telegram.wait_for(lambda: not gonka.queue, timeout=60)
    pdf = shared_stream_pdf()
    for user in range(3003, 3009):
        await telegram.send_document(user, pdf, "report.pdf", user_id=user)


async def drive(chats: int) -> None:
    from tests.doubles.fake_gonka import FakeGonka
    from tests.doubles.fake_pages import PageServer
    from tests.doubles.fake_telegram import FakeTelegramServer
    from tests.e2e.bot_process import BotProcess, bot_env

    async with FakeTelegramServer() as telegram, FakeGonka() as gonka, PageServer() as pages:
        data = tempfile.mkdtemp(prefix="hostile-bench-")
        env = bot_env(
            BOT_TOKEN=telegram.token, TELEGRAM_API_URL=telegram.base_url,
            GONKA_API_KEY=gonka.api_key, GONKA_BASE_URL=gonka.base_url + "/v1",
            DATA_DIR=data, TOOLS="calculate,fetch_url", LOG_LEVEL="INFO", FLOOD_MESSAGES="0",
        )  # fmt: skip
        log = open(Path(data) / "bot.log", "wb")  # noqa: SIM115, ASYNC230
        process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--bot", str(pages.port), env=env, cwd=data,
            stdout=log, stderr=log,
        )  # fmt: skip
        print(f"bot log: {log.name}")
        bot = BotProcess(process)
        sampler = Sampler(process.pid)
        sampling = asyncio.create_task(sampler.run())
        try:
            await telegram.wait_for(lambda: telegram.polls_started, timeout=120)
            quiet, busy = Asker(telegram), Asker(telegram)
            for n in range(3):
                await quiet.ask(f"quiet {n}")
            idle_main = rss_kib(process.pid)
            started = time.perf_counter()
            await hostile(telegram, gonka, pages)
            for n in range(chats):
                await busy.ask(f"while hostile {n}")
            hostile_users = [3001, 3002, *range(3003, 3011)]
            await telegram.wait_for(
                lambda: all(telegram.bot_messages(u) for u in hostile_users), timeout=300
            )
            hostile_seconds = time.perf_counter() - started
            final = await Asker(telegram).ask("are you still there?")
        finally:
            sampling.cancel()
            await bot.stop()
        print(f"bot main process pid {process.pid}; workers seen: {len(sampler.workers_seen)}")
        print(f"other user, quiet:        first sign {_ms(quiet.first)}; answer {_ms(quiet.final)}")
        print(f"other user, under attack: first sign {_ms(busy.first)}; answer {_ms(busy.final)}")
        print(f"  ({chats} messages under attack, one after another)")
        print(f"other user, at the end:   {final * 1000:.0f} ms (answered)")
        print(f"hostile inputs all answered after {hostile_seconds:.1f} s")
        print(f"RSS main: idle {idle_main / 1024:.0f} MiB, peak {sampler.main / 1024:.0f} MiB")
        print(f"RSS peak of one worker {sampler.worker / 1024:.0f} MiB")
        print(f"RSS peak of all the bot's processes together {sampler.total / 1024:.0f} MiB")
        for user in [3001, 3002, 3003, 3009, 3010]:
            last = telegram.bot_messages(user)[-1]
            text = (last.text or last.rich_markdown or "")[:110].replace("\n", " ")
            print(f"  user {user}: {text}")


def _ms(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    return f"median {statistics.median(ms):.0f} ms, max {ms[-1]:.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=10)
    parser.add_argument("--bot", type=int, help=argparse.SUPPRESS)  # the bot process itself
    args = parser.parse_args()
    if args.bot is not None:
        asyncio.run(run_bot(args.bot))
        return 0
    asyncio.run(drive(args.chats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
