"""`python -m bot` as a user runs it: contract variables pointing at the local doubles."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.doubles.fake_gonka import FakeGonka, Reply
from tests.doubles.fake_telegram import FakeTelegramServer
from tests.e2e.bot_process import BotProcess, bot_env, run_bot

USER = 4242


async def wait_polling(bot: BotProcess, telegram: FakeTelegramServer) -> None:
    """Until the bot polls: the signal that start-up (imports, checks) is over, however long
    a loaded machine takes for it. The first poll is pending, not answered (it would answer
    only at its 30 s timeout)."""
    await bot.wait_for(lambda: telegram.polls_started)


@pytest.fixture
async def doubles() -> AsyncIterator[tuple[FakeTelegramServer, FakeGonka]]:
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        yield telegram, gonka


async def test_python_m_bot_streams_remembers_resets_and_counts(
    doubles: tuple[FakeTelegramServer, FakeGonka], tmp_path: Path
) -> None:
    telegram, gonka = doubles
    env = bot_env(
        BOT_TOKEN=telegram.token,
        TELEGRAM_API_URL=telegram.base_url,
        GONKA_API_KEY=gonka.api_key,
        GONKA_BASE_URL=gonka.base_url + "/v1",
        GONKA_MODEL="Qwen/Qwen3-235B-A22B-Instruct-2507-FP8",
    )
    bot = await BotProcess.start(tmp_path, env)
    try:
        await wait_polling(bot, telegram)
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
        await bot.stop()
    log = bot.output
    # Without REDIS_URL the data is kept under ./data and saved on the way out.
    assert "data kept in data/store.sqlite3" in log
    with contextlib.closing(sqlite3.connect(tmp_path / "data" / "store.sqlite3")) as db:
        assert any(b"history" in bytes(key) for (key,) in db.execute("SELECT key FROM keys"))
    assert telegram.token not in log and gonka.api_key not in log


async def test_missing_secrets_stop_with_one_clear_line(tmp_path: Path) -> None:
    code, _, stderr = await run_bot(tmp_path, bot_env())
    assert code != 0
    assert stderr.strip() == (
        "Set BOT_TOKEN and GONKA_API_KEY in the environment or in .env (see .env.example)."
    )


@pytest.mark.parametrize("fault", ["unreachable", "wrong key"])
async def test_run_names_the_gonka_variable_to_fix_and_keeps_running(
    doubles: tuple[FakeTelegramServer, FakeGonka], tmp_path: Path, fault: str
) -> None:
    # It polled with a log that read like success ("model list unavailable", "model checked").
    telegram, gonka = doubles
    closed = FakeGonka()
    await closed.start()
    unreachable = closed.base_url + "/v1"
    await closed.stop()
    env = bot_env(
        BOT_TOKEN=telegram.token,
        TELEGRAM_API_URL=telegram.base_url,
        GONKA_API_KEY="sk-wrong-key" if fault == "wrong key" else gonka.api_key,
        GONKA_BASE_URL=unreachable if fault == "unreachable" else gonka.base_url + "/v1",
    )
    bot = await BotProcess.start(tmp_path, env)
    try:
        await wait_polling(bot, telegram)  # it keeps running: the upstream may come back
    finally:
        await bot.stop()
    variable = "GONKA_BASE_URL" if fault == "unreachable" else "GONKA_API_KEY"
    said = [line for line in bot.lines if "GONKA_" in line]
    assert len(said) == 1, bot.output
    assert variable in said[0] and "level=ERROR" in said[0]
    assert "model checked" not in bot.output and "model list unavailable" not in bot.output
    assert "sk-wrong-key" not in bot.output
