"""Fixtures of the fake Telegram server's own tests: the server, a real aiogram Bot talking to it,
and a clock the test moves by hand where a module asks for it (`FAKE_CLOCK = True`)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from tests.doubles.fake_telegram import FakeTelegramServer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def tg(request: pytest.FixtureRequest) -> AsyncIterator[FakeTelegramServer]:
    fake = getattr(request.module, "FAKE_CLOCK", False)
    clock = request.getfixturevalue("clock") if fake else time.monotonic
    async with FakeTelegramServer(clock=clock) as server:
        yield server
    assert server.internal_errors == []


@pytest.fixture
async def bot(tg: FakeTelegramServer) -> AsyncIterator[Bot]:
    bot = tg.make_bot()
    yield bot
    await bot.session.close()
