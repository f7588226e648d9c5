"""CPU-heavy jobs (reading a document, a web page's text, `calculate`) run away from the event
loop, in worker processes (bot/workers): the port, its two refusals and whose job it is."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Literal, Protocol

FailReason = Literal["timeout", "cpu", "memory", "crashed"]

# The user an update is handled for (set per update by bot/telegram/job_owner.py): the per-user
# cap on concurrent jobs counts by it. None: a job no user asked for (counted globally only).
job_owner: ContextVar[int | None] = ContextVar("job_owner", default=None)


class JobsBusy(Exception):
    """Too many jobs already: all users' (the global cap) or this user's (the per-user cap)."""


class JobFailed(Exception):
    """The job was stopped by a limit (wall clock, CPU, memory) or its worker died.

    `reason` says which: "timeout", "cpu", "memory" or "crashed".
    """

    def __init__(self, reason: FailReason) -> None:
        super().__init__(reason)
        self.reason: FailReason = reason


class JobRunner(Protocol):
    """Runs the named job (one of bot/workers/jobs.py) with `args` in a worker process and
    returns its result; re-raises the job's own exception (e.g. a ToolError). Raises JobsBusy
    when full, JobFailed when a limit stopped it. Cancelling the call ends the job at once."""

    async def run(self, job: str, *args: Any) -> Any: ...
