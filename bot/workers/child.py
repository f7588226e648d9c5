"""One worker process: `python -m bot.workers.child MEMORY_MB CPU_SECONDS JOBS_JSON`.

Reads jobs from stdin and writes results to stdout, one frame each (a 4-byte big-endian length,
then a pickle): `(job, args)` in; `("started", None)` once the job's module is loaded, then
`("ok", value)`, `("raised", exception)` or `("failed", reason)` out. Its address space is capped (RLIMIT_AS) for its whole life, and each job may use
CPU_SECONDS of CPU (RLIMIT_CPU, raised before each job): past it the kernel ends the process.
Imports only the standard library until a job needs its module.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import os
import pickle
import resource
import struct
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

HEADER = struct.Struct(">I")


def read_frame(stream: BinaryIO) -> bytes | None:
    """The next frame's payload; None at the end of the stream."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    payload = stream.read(size)
    return payload if len(payload) == size else None


def write_frame(stream: BinaryIO, payload: bytes) -> None:
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()


def limit_memory(megabytes: int) -> None:
    if megabytes > 0:
        size = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))


def allow_cpu(seconds: float) -> None:
    """Let the next job use `seconds` of CPU on top of what this process used so far."""
    if seconds <= 0:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.partition(":")
    function: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return function


def run_one(jobs: dict[str, str], request: bytes, replies: BinaryIO, cpu: float) -> bool:
    """Run one request: a "started" frame once the job's module is imported (the job's time
    and CPU limits count from then), then its reply frame. True: this worker should end."""
    try:
        job, args = pickle.loads(request)
        function: Callable[..., Any] | None = resolve(jobs[job])
        error: Exception | None = None
    except Exception as exc:
        function, error = None, exc
    write_frame(replies, pickle.dumps(("started", None)))
    allow_cpu(cpu)
    try:
        result: tuple[str, Any] = ("raised", error) if function is None else ("ok", function(*args))
    except MemoryError:
        write_frame(replies, pickle.dumps(("failed", "memory")))
        return True
    except Exception as exc:
        result = ("raised", exc)
    try:
        reply = pickle.dumps(result)
    except MemoryError:
        write_frame(replies, pickle.dumps(("failed", "memory")))
        return True
    except Exception:  # an exception that cannot be pickled: its type is enough
        reply = pickle.dumps(("raised", RuntimeError(type(result[1]).__name__)))
    write_frame(replies, reply)
    return False


def main(argv: list[str]) -> int:
    memory, cpu, jobs = int(argv[0]), float(argv[1]), json.loads(argv[2])
    limit_memory(memory)
    logging.basicConfig(level=logging.ERROR)  # parsers' warnings about broken files: not needed
    # Frames go to a private copy of stdout; anything a library prints lands on stderr.
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    while (request := read_frame(requests)) is not None:
        if run_one(jobs, request, replies, cpu):
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
