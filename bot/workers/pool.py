"""The bot's side of the worker processes: a small pool started on first use, with caps.

A job runs in a child process (bot/workers/child.py) so that it can really be ended: on its
wall-clock limit, on Stop or on shutdown the process is killed and a fresh one starts for the
next job. The child has no secrets in its environment and caps its own memory and CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import pickle
import signal
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.jobs import FailReason, JobFailed, JobsBusy, job_owner
from bot.workers.child import HEADER
from bot.workers.jobs import JOBS

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]  # the directory holding the `bot` package
MAX_REPLY = 256 * 1024 * 1024  # a 10 MB document's text, pickled, is far below
START_TIMEOUT = 60.0  # for a worker to load a job's module


@dataclass(frozen=True, slots=True)
class WorkerLimits:
    """WORKER_PROCESSES, WORKER_JOB_TIMEOUT (wall clock, also the CPU seconds a job may use),
    WORKER_MEMORY_MB (address space of each worker), WORKER_MAX_JOBS (running and waiting, all
    users), WORKER_USER_JOBS (one user's), WORKER_IDLE_SECONDS (an idle worker then exits)."""

    processes: int = 2
    timeout: float = 30.0
    memory_mb: int = 1024
    max_jobs: int = 8
    user_jobs: int = 2
    idle_seconds: float = 120.0
    cpu_seconds: float = 0.0  # CPU time a job may use; 0: as much as `timeout`


class _Worker:
    """One child process and its pipes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.idle_since = 0.0

    async def start(self, job: str, args: tuple[Any, ...]) -> None:
        """Send the job; return once the worker has loaded its module and begins."""
        stdin = self.process.stdin
        assert stdin is not None
        request = pickle.dumps((job, args))
        stdin.write(HEADER.pack(len(request)) + request)
        try:
            await stdin.drain()
        except ConnectionError:
            raise JobFailed(await self._death()) from None
        await self._frame()

    async def result(self) -> Any:
        """The job's value; its own exception re-raised; JobFailed when a limit ended it."""
        kind, value = await self._frame()
        if kind == "ok":
            return value
        if kind == "failed":
            raise JobFailed(value)
        raise value

    async def _frame(self) -> tuple[str, Any]:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            (size,) = HEADER.unpack(await stdout.readexactly(HEADER.size))
            if size > MAX_REPLY:
                raise JobFailed("memory")
            frame: tuple[str, Any] = pickle.loads(await stdout.readexactly(size))
        except (asyncio.IncompleteReadError, ConnectionError):
            raise JobFailed(await self._death()) from None
        return frame

    async def _death(self) -> FailReason:
        code = await self.process.wait()
        if code == -signal.SIGXCPU:
            return "cpu"
        return "crashed"

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()

    async def close(self) -> None:
        """Ask the worker to end (end of its input); kill it if it does not."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            async with asyncio.timeout(2):
                await self.process.wait()
        except TimeoutError:
            self.kill()
            await self.process.wait()


class WorkerPool:
    """Runs jobs in at most `limits.processes` worker processes (see `JobRunner`)."""

    def __init__(self, limits: WorkerLimits, jobs: Mapping[str, str] = JOBS) -> None:
        """`jobs`: the job names a worker may run and their functions ("module:function")."""
        self._limits = limits
        self._jobs = dict(jobs)
        self._slots = asyncio.Semaphore(limits.processes)
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._jobs_in = 0
        self._per_user: Counter[int] = Counter()
        self._closed = False
        self._reaper: asyncio.TimerHandle | None = None
        self._dying: set[asyncio.Task[Any]] = set()

    @property
    def processes(self) -> list[int]:
        """The process ids of the running workers (for the benchmark's memory figures)."""
        return [w.process.pid for w in self._all if w.process.returncode is None]

    @property
    def busy(self) -> int:
        """Jobs running or waiting for a worker."""
        return self._jobs_in

    async def run(self, job: str, *args: Any) -> Any:
        if job not in self._jobs:
            raise KeyError(job)
        owner = job_owner.get()
        self._admit(owner)
        try:
            return await self._run(job, args)
        finally:
            self._jobs_in -= 1
            if owner is not None:
                self._per_user[owner] -= 1
                if self._per_user[owner] <= 0:
                    del self._per_user[owner]

    def _admit(self, owner: int | None) -> None:
        if self._closed:
            raise JobsBusy("the bot is stopping")
        if self._jobs_in >= self._limits.max_jobs:
            log.warning("worker jobs full jobs=%d", self._jobs_in)
            raise JobsBusy("all workers are busy")
        if owner is not None and self._per_user[owner] >= self._limits.user_jobs:
            log.info("worker jobs of one user full user=%s", owner)
            raise JobsBusy("this user's jobs are running")
        self._jobs_in += 1
        if owner is not None:
            self._per_user[owner] += 1

    async def _run(self, job: str, args: tuple[Any, ...]) -> Any:
        timeout = self._limits.timeout
        try:
            async with asyncio.timeout(timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise JobsBusy("no worker became free") from None
        worker: _Worker | None = None
        try:
            worker = self._idle.pop() if self._idle else await self._spawn()
            try:
                # A fresh worker imports the job's module first (pypdf, trafilatura: seconds
                # on a loaded machine): not counted in the job's time.
                async with asyncio.timeout(START_TIMEOUT) as deadline:
                    await worker.start(job, args)
                async with asyncio.timeout(timeout) as deadline:
                    result = await worker.result()
            except TimeoutError:
                if deadline.expired():
                    raise JobFailed("timeout") from None
                raise
        except BaseException as exc:  # a limit, the job's own error, Stop or shutdown
            if worker is not None and self._reusable(exc):
                self._give_back(worker)
            elif worker is not None:
                self._discard(worker)
                reason = exc.reason if isinstance(exc, JobFailed) else type(exc).__name__
                log.warning("worker job stopped job=%s reason=%s", job, reason)
            if self._closed and isinstance(exc, JobFailed):  # killed by the shutdown, not a limit
                raise JobsBusy("the bot is stopping") from None
            raise
        else:
            self._give_back(worker)
            return result
        finally:
            self._slots.release()

    @staticmethod
    def _reusable(exc: BaseException) -> bool:
        """After the job's own exception the worker is fine; after anything else it is not."""
        return isinstance(exc, Exception) and not isinstance(exc, JobFailed | OSError)

    async def _spawn(self) -> _Worker:
        limits = self._limits
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.workers.child",
                str(limits.memory_mb), str(limits.cpu_seconds or limits.timeout),
                json.dumps(self._jobs),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=_child_env(),
            )  # fmt: skip
        except OSError as exc:
            log.error("worker did not start error=%s", exc)
            raise JobFailed("crashed") from None
        worker = _Worker(process)
        self._all.add(worker)
        log.info("worker started pid=%d", process.pid)
        return worker

    def _give_back(self, worker: _Worker) -> None:
        if self._closed or worker.process.returncode is not None:
            self._discard(worker)
            return
        loop = asyncio.get_running_loop()
        worker.idle_since = loop.time()
        self._idle.append(worker)
        if self._reaper is None:
            self._reaper = loop.call_later(self._limits.idle_seconds, self._reap)

    def _reap(self) -> None:
        """End the workers idle for WORKER_IDLE_SECONDS: an idle bot keeps no worker memory."""
        self._reaper = None
        loop = asyncio.get_running_loop()
        due = loop.time() - self._limits.idle_seconds
        for worker in [w for w in self._idle if w.idle_since <= due]:
            self._idle.remove(worker)
            self._all.discard(worker)
            task = loop.create_task(worker.close())
            self._dying.add(task)
            task.add_done_callback(self._dying.discard)
        if self._idle:
            self._reaper = loop.call_later(self._limits.idle_seconds, self._reap)

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        self._all.discard(worker)
        task = asyncio.get_running_loop().create_task(worker.process.wait())
        self._dying.add(task)
        task.add_done_callback(self._dying.discard)
        with contextlib.suppress(ValueError):
            self._idle.remove(worker)

    async def aclose(self) -> None:
        """Kill every worker now (shutdown does not wait for a job)."""
        self._closed = True
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        workers = list(self._all)
        self._all.clear()
        self._idle.clear()
        for worker in workers:
            worker.kill()
        for worker in workers:
            await worker.process.wait()
        await asyncio.gather(*self._dying, return_exceptions=True)


def _child_env() -> dict[str, str]:
    """A worker's environment: nothing of the bot's (no token, no keys), only what Python needs."""
    env = {"PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    for name in ("PATH", "LANG", "LC_ALL", "TMPDIR", "HOME"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env
