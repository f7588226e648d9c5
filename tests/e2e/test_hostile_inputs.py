"""Issue 25 end to end: hostile files read in worker processes while other users are answered,
ended at their limits, and ended at shutdown."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from pathlib import Path

from bot.telegram.texts import t
from tests.doubles.fake_gonka import FakeGonka, Reply
from tests.doubles.fake_telegram import FakeTelegramServer
from tests.doubles.hostile_files import docx_bomb, end_tag_flood, shared_stream_pdf
from tests.e2e.bot_process import BotProcess, bot_env
from tests.e2e.conftest import FAST, USER, EnvFactory
from tests.unit.test_documents import make_docx

HOSTILE = [2001, 2002, 2003, 2004, 2005, 2006]
BOMB = "DOCX that expands too much (a zip bomb?)"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ")[1][0] != "Z"


async def test_six_hostile_pdfs_do_not_stop_another_users_answer(make_env: EnvFactory) -> None:
    """Six users' PDFs (minutes of pypdf each) once took every thread of the default executor,
    which aiogram's filters need too: a seventh user got no answer."""
    async with make_env(**FAST, worker_job_timeout=120) as env:
        jobs = env.app.jobs
        assert jobs is not None
        pdf = shared_stream_pdf()
        for user in HOSTILE:
            await env.telegram.send_document(user, pdf, "report.pdf", user_id=user)
        await env.telegram.wait_for(lambda: jobs.busy == len(HOSTILE), timeout=30)
        env.gonka.enqueue(Reply(text="Hello there."))
        await env.telegram.send_text(USER, "hi")
        busy_when_answered: list[int] = []

        def answered() -> bool:
            done = env.visible_texts() == ["Hello there."]
            if done:
                busy_when_answered.append(jobs.busy)
            return done

        await env.telegram.wait_for(answered, timeout=30)
        assert busy_when_answered[0] == len(HOSTILE)  # all six were still being read
        assert len(jobs.processes) == 2  # two workers read them, the rest wait their turn


async def test_a_file_past_the_time_limit_is_told_could_not_read(make_env: EnvFactory) -> None:
    async with make_env(**FAST, worker_job_timeout=2) as env:
        await env.telegram.send_document(USER, shared_stream_pdf(), "slow.pdf", language_code="ru")
        expected = t("doc_too_complex", "ru", name="slow.pdf", kind="PDF file")
        await env.telegram.wait_for(lambda: env.visible_texts() == [expected], timeout=60)
        assert env.gonka.completion_calls == 0


async def test_a_zip_bomb_is_refused_and_an_end_tag_flood_is_read(make_env: EnvFactory) -> None:
    async with make_env(**FAST) as env:
        await env.telegram.send_document(USER, docx_bomb(make_docx(["x"])), "bomb.docx")
        bomb = t("doc_too_complex", "en", name="bomb.docx", kind=BOMB)
        await env.telegram.wait_for(lambda: env.visible_texts() == [bomb], timeout=60)
        env.gonka.enqueue(Reply(text="Only end tags."))
        await env.telegram.send_document(USER, end_tag_flood(), "flood.html", caption="?")
        await env.telegram.wait_for(lambda: "Only end tags." in env.visible_texts(), 60)
        assert env.visible_texts()[1].startswith("flood.html is long")
        assert env.gonka.completion_calls == 1


async def test_a_full_pool_answers_busy(make_env: EnvFactory) -> None:
    async with make_env(**FAST, worker_max_jobs=1, worker_job_timeout=120) as env:
        jobs = env.app.jobs
        assert jobs is not None
        await env.telegram.send_document(HOSTILE[0], shared_stream_pdf(), "a.pdf", user_id=2001)
        await env.telegram.wait_for(lambda: jobs.busy == 1, timeout=30)
        await env.telegram.send_document(USER, make_docx(["fine"]), "b.docx", language_code="ru")
        await env.telegram.wait_for(lambda: env.visible_texts() == [t("jobs_busy", "ru")], 30)
        assert env.gonka.completion_calls == 0


async def test_sigterm_ends_the_bot_and_its_workers_while_a_file_is_read(tmp_path: Path) -> None:
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        env = bot_env(
            BOT_TOKEN=telegram.token, TELEGRAM_API_URL=telegram.base_url,
            GONKA_API_KEY=gonka.api_key, GONKA_BASE_URL=gonka.base_url + "/v1",
            DATA_DIR=str(tmp_path / "data"), SHUTDOWN_GRACE="2", WORKER_JOB_TIMEOUT="600",
        )  # fmt: skip
        bot = await BotProcess.start(tmp_path, env)
        try:
            await bot.wait_for(lambda: telegram.polls_started)
            await telegram.send_document(USER, shared_stream_pdf(), "report.pdf")
            await bot.wait_for(lambda: "worker started" in bot.output)
            found = re.search(r"worker started pid=(\d+)", bot.output)
            assert found is not None
            worker = int(found.group(1))
            await asyncio.sleep(0.5)  # into pypdf's minutes of work
            assert alive(worker)
            bot.process.send_signal(signal.SIGTERM)
            # The bound only ends a test that would never pass (it hung for minutes before).
            await asyncio.wait_for(bot.process.wait(), 60)
        finally:
            code = await bot.stop()
        assert code == 0, bot.output[-2000:]
        assert not alive(worker)
