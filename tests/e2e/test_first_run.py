"""The first run as the README tells it (issue 13): `cp .env.example .env`, the two tokens, run.
No Redis server is needed, and the bot still remembers the chat after a restart, even after a
crash (SIGKILL) once SNAPSHOT_INTERVAL has passed."""

from __future__ import annotations

import asyncio
import shutil
import signal
import sys
from pathlib import Path

from tests.doubles.fake_gonka import FakeGonka, Reply
from tests.doubles.fake_telegram import FakeTelegramServer
from tests.e2e.bot_process import ROOT, bot_env

USER = 4343


async def _start(cwd: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=cwd, env={**env, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def _ask(telegram: FakeTelegramServer, text: str, count: int) -> None:
    await telegram.send_text(USER, text, user_id=USER)
    await telegram.wait_for(lambda: len(telegram.bot_messages(USER)) == count, 40)


async def test_env_example_runs_without_redis_and_remembers_after_a_crash(
    tmp_path: Path,
) -> None:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    with (tmp_path / ".env").open("a") as env_file:
        env_file.write("\nRICH_MESSAGES=false\nUSE_DRAFTS=false\nSNAPSHOT_INTERVAL=0.5\n")
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        env = bot_env(
            BOT_TOKEN=telegram.token,
            TELEGRAM_API_URL=telegram.base_url,
            GONKA_API_KEY=gonka.api_key,
            GONKA_BASE_URL=gonka.base_url + "/v1",
        )
        process = await _start(tmp_path, env)
        try:
            gonka.enqueue(Reply(text="Noted: apple."))
            await _ask(telegram, "remember the word apple", 1)
            await asyncio.sleep(1.5)  # more than SNAPSHOT_INTERVAL
        finally:
            process.send_signal(signal.SIGKILL)  # a crash: no clean shutdown, no last save
            first_log, _ = await asyncio.wait_for(process.communicate(), 10)

        process = await _start(tmp_path, env)
        try:
            gonka.enqueue(Reply(text="Apple."))
            await _ask(telegram, "which word?", 2)
        finally:
            process.terminate()
            await asyncio.wait_for(process.communicate(), 10)
    asked = [m["content"] for m in gonka.requests[-1]["messages"] if m["role"] != "system"]
    assert asked == ["remember the word apple", "Noted: apple.", "which word?"]
    assert "unavailable" not in first_log.decode()
    # The example configuration does not ask for a Redis server: the data is under ./data.
    assert "data kept in data/store.sqlite3" in first_log.decode()
    assert (tmp_path / "data" / "store.sqlite3").exists()
