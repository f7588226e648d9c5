"""`python -m bot` as a user runs it: contract variables pointing at the local doubles."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.doubles.fake_gonka import FakeGonka, Reply
from tests.doubles.fake_telegram import FakeTelegramServer

ROOT = Path(__file__).resolve().parents[2]
USER = 4242


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "GONKA_", "REDIS_"))}
    env.update(values)
    return env


@pytest.fixture
async def doubles() -> AsyncIterator[tuple[FakeTelegramServer, FakeGonka]]:
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        yield telegram, gonka


async def test_python_m_bot_streams_remembers_resets_and_counts(
    doubles: tuple[FakeTelegramServer, FakeGonka], tmp_path: Path
) -> None:
    telegram, gonka = doubles
    env = _env(
        BOT_TOKEN=telegram.token,
        TELEGRAM_API_URL=telegram.base_url,
        GONKA_API_KEY=gonka.api_key,
        GONKA_BASE_URL=gonka.base_url + "/v1",
        GONKA_MODEL="Qwen/Qwen3-235B-A22B-Instruct-2507-FP8",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        answers = ["First answer.", "Second answer.", "Third answer."]
        for number, answer in enumerate(answers, start=1):
            gonka.enqueue(Reply(text=answer, chunk_chars=3, token_delay=0.01))
            await telegram.send_text(USER, f"question {number}", user_id=USER)
            await telegram.wait_for(lambda n=number: len(telegram.bot_messages(USER)) == n, 20)
        # By default answers are rich messages, streamed as rich drafts.
        assert [m.rich_markdown for m in telegram.bot_messages(USER)] == answers
        assert telegram.calls_of("sendRichMessageDraft")
        assert len(gonka.requests[2]["messages"]) == 6  # system + three turns remembered
        await telegram.send_text(USER, "/reset", user_id=USER)
        await telegram.wait_for(lambda: len(telegram.bot_messages(USER)) == 4, 10)
        gonka.enqueue(Reply(text="Fresh."))
        await telegram.send_text(USER, "question 4", user_id=USER)
        await telegram.wait_for(lambda: len(telegram.bot_messages(USER)) == 5, 10)
        assert len(gonka.requests[3]["messages"]) == 2
        await telegram.send_text(USER, "/usage", user_id=USER)
        await telegram.wait_for(lambda: len(telegram.bot_messages(USER)) == 6, 10)
        usage = telegram.bot_messages(USER)[-1].text or ""
        assert "Today:" in usage and "Today: 0 tokens" not in usage
    finally:
        process.terminate()
        output, _ = await asyncio.wait_for(process.communicate(), 10)
    log = output.decode()
    # Without REDIS_URL the data is kept under ./data and saved on the way out.
    assert "data kept in data/store.json" in log
    assert "history" in (tmp_path / "data" / "store.json").read_text()
    assert telegram.token not in log and gonka.api_key not in log


async def test_missing_secrets_stop_with_one_clear_line(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env={**_env(), "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode != 0
    assert stderr.decode().strip() == (
        "Set BOT_TOKEN and GONKA_API_KEY in the environment or in .env (see .env.example)."
    )
