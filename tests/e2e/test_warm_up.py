"""The schemas every answer uses are built after the first poll is out, not before it."""

from __future__ import annotations

import time

import pytest

from bot import lifecycle
from tests.e2e.conftest import EnvFactory


async def test_warm_up_runs_once_the_first_poll_is_out(
    make_env: EnvFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before, it was scheduled WARM_AFTER seconds after App.run began: on a loaded machine the
    # start-up's checks and calls took longer, and the first getUpdates waited for ~0.25 s of
    # schema builds. (run_polling alone, as here, did not warm at all.)
    warmed: list[float] = []
    monkeypatch.setattr(lifecycle, "installed", lambda: True)
    monkeypatch.setattr(lifecycle, "warm", lambda: warmed.append(time.monotonic()))
    async with make_env() as env:
        # A poll is recorded when answered (polling_timeout=1), with the time it arrived.
        await env.telegram.wait_for(lambda: warmed and env.telegram.calls_of("getUpdates"), 10)
        first_poll = env.telegram.calls_of("getUpdates")[0].at
    assert len(warmed) == 1
    assert warmed[0] > first_poll
