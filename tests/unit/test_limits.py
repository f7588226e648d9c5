"""The answer's watchdog: one sleeping task, moved on by content, bounded by the deadline."""

from __future__ import annotations

import asyncio
import time

from bot.core.limits import AnswerLimits, watch


async def test_content_moves_the_idle_bound_on_until_it_stops() -> None:
    last = [time.monotonic()]
    task = asyncio.create_task(watch(AnswerLimits(total=5, idle=0.2), last[0], lambda: last[0]))
    for _ in range(5):  # content every 0.1 s for 0.5 s: longer than `idle` in all
        await asyncio.sleep(0.1)
        last[0] = time.monotonic()
    assert not task.done()
    stopped = time.monotonic()
    assert await asyncio.wait_for(task, 1) == "idle"
    assert 0.15 <= time.monotonic() - stopped < 0.5


async def test_the_deadline_holds_whatever_the_content() -> None:
    started = time.monotonic()
    result = await asyncio.wait_for(
        watch(AnswerLimits(total=0.3, idle=10), started, time.monotonic), 2
    )
    assert result == "deadline"
    assert 0.3 <= time.monotonic() - started < 0.8


def test_size_bounds_derive_from_max_tokens_and_the_budget() -> None:
    limits = AnswerLimits()
    assert limits.answer_chars(2048) == 20_480
    assert limits.history_chars(16_000) == 160_000
    assert AnswerLimits(max_chars=100, entry_chars=50).answer_chars(2048) == 100
