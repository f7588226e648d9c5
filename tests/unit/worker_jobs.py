"""Jobs for the worker pool's tests (run in a worker process, as the real jobs are)."""

from __future__ import annotations

import os
import time


def sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "slept"


def spin() -> None:
    while True:
        pass


def allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def environment() -> list[str]:
    return sorted(os.environ)


def fail(message: str) -> None:
    raise ValueError(message)


def pid() -> int:
    return os.getpid()
