"""The worker pool: jobs in child processes, really ended at their limits, with caps."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest

from bot.core.documents import DocumentLimits, DocumentText, Unreadable
from bot.core.jobs import JobFailed, JobsBusy, job_owner
from bot.workers.jobs import JOBS
from bot.workers.pool import ROOT, WorkerLimits, WorkerPool
from tests.doubles.hostile_files import shared_stream_pdf

TEST_JOBS = JOBS | {
    name: f"tests.unit.worker_jobs:{name}"
    for name in ("sleep", "spin", "allocate", "environment", "fail", "pid")
}


@pytest.fixture
async def pool() -> AsyncIterator[WorkerPool]:
    workers = WorkerPool(WorkerLimits(processes=2, timeout=30, max_jobs=4, user_jobs=2), TEST_JOBS)
    yield workers
    await workers.aclose()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is not alive
        return stat.read().split(") ")[1][0] != "Z"


async def test_a_job_runs_in_another_process_and_its_worker_is_reused(pool: WorkerPool) -> None:
    first = await pool.run("pid")
    assert first != os.getpid() and await pool.run("pid") == first
    with pytest.raises(ValueError, match="bad input"):  # the job's own error, as raised
        await pool.run("fail", "bad input")
    assert await pool.run("pid") == first  # ...leaves the worker fine


async def test_a_document_is_read_in_a_worker(pool: WorkerPool) -> None:
    result = await pool.run("read_document", "a.txt", b"hello there", DocumentLimits(), None)
    assert isinstance(result, DocumentText) and result.text == "hello there"


async def test_the_wall_clock_limit_kills_the_job_and_a_fresh_worker_follows() -> None:
    pool = WorkerPool(WorkerLimits(processes=1, timeout=1.5), TEST_JOBS)
    try:
        worker = await pool.run("pid")
        # The PDF: minutes of pypdf; the job ends at its limit, its process with it.
        with pytest.raises(JobFailed) as failed:
            await pool.run("read_document", "x.pdf", shared_stream_pdf(), DocumentLimits(), None)
        assert failed.value.reason == "timeout"
        await asyncio.sleep(0.2)
        assert not alive(worker)
        assert await pool.run("pid") not in (worker, os.getpid())
    finally:
        await pool.aclose()


async def test_the_memory_limit_ends_a_job_that_allocates_too_much() -> None:
    pool = WorkerPool(WorkerLimits(processes=1, memory_mb=512), TEST_JOBS)
    try:
        assert await pool.run("allocate", 50) == 50 * 1024 * 1024
        with pytest.raises(JobFailed) as failed:
            await pool.run("allocate", 2048)
        assert failed.value.reason == "memory"
        assert await pool.run("allocate", 50) == 50 * 1024 * 1024  # a fresh worker
    finally:
        await pool.aclose()


async def test_the_cpu_limit_ends_a_spinning_job() -> None:
    pool = WorkerPool(WorkerLimits(processes=1, timeout=120, cpu_seconds=1), TEST_JOBS)
    try:
        with pytest.raises(JobFailed) as failed:
            await pool.run("spin")
        assert failed.value.reason == "cpu"
        assert await pool.run("sleep", 0) == "slept"
    finally:
        await pool.aclose()


async def test_cancelling_a_job_kills_its_worker(pool: WorkerPool) -> None:
    worker = await pool.run("pid")
    task = asyncio.create_task(pool.run("spin"))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.2)
    assert not alive(worker)
    assert pool.busy == 0


async def test_per_user_and_global_caps_answer_busy(pool: WorkerPool) -> None:
    async def as_user(user: int, *args: object) -> object:
        job_owner.set(user)
        return await pool.run(*args)  # type: ignore[arg-type]

    first = [asyncio.create_task(as_user(1, "sleep", 30)) for _ in range(2)]
    await asyncio.sleep(0.1)
    with pytest.raises(JobsBusy):  # user 1 has two jobs running
        await as_user(1, "sleep", 0)
    other = [asyncio.create_task(as_user(2, "sleep", 30)) for _ in range(2)]
    await asyncio.sleep(0.1)
    assert pool.busy == 4
    with pytest.raises(JobsBusy):  # four jobs in all: the global cap
        await as_user(3, "sleep", 0)
    for task in first + other:
        task.cancel()
    await asyncio.gather(*first, *other, return_exceptions=True)
    assert pool.busy == 0
    assert await as_user(3, "sleep", 0) == "slept"


async def test_close_kills_running_jobs(pool: WorkerPool) -> None:
    task = asyncio.create_task(pool.run("spin"))
    await asyncio.sleep(0.5)
    [worker] = pool.processes
    await pool.aclose()
    assert not alive(worker)
    with pytest.raises(JobsBusy):  # the user hears "busy, send it again", not "could not read"
        await task
    with pytest.raises(JobsBusy):
        await pool.run("pid")


async def test_a_worker_gets_no_secret_from_the_environment(
    pool: WorkerPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123:SECRET")
    monkeypatch.setenv("GONKA_API_KEY", "sk-secret")
    names = await pool.run("environment")
    assert "BOT_TOKEN" not in names and "GONKA_API_KEY" not in names


async def test_idle_workers_exit() -> None:
    pool = WorkerPool(WorkerLimits(processes=1, idle_seconds=0.2), TEST_JOBS)
    try:
        worker = await pool.run("pid")
        await asyncio.sleep(1.0)
        assert pool.processes == [] and not alive(worker)
    finally:
        await pool.aclose()


def test_the_bot_process_never_imports_the_parsers() -> None:
    """Building the whole bot loads neither pypdf, python-docx, trafilatura nor lxml: they
    live in the workers only (the main process stays lean)."""
    script = (
        "import sys\n"
        "from bot.config import Settings\n"
        "from bot.app import build_app\n"
        "settings = Settings(_env_file=None, bot_token='1:A', gonka_api_key='k', "
        "redis_url=None, data_dir=None)\n"
        "build_app(settings)\n"
        "import bot.adapters.tools.factory, bot.adapters.tools.fetch_url\n"
        "heavy = ('pypdf', 'docx', 'trafilatura', 'lxml', 'charset_normalizer')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "[]", out.stderr


def test_unreadable_survives_the_pipe() -> None:
    import pickle

    result = Unreadable("a.docx", "DOCX", "too_complex", 10)
    assert pickle.loads(pickle.dumps(result)) == result
