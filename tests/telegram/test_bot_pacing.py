"""The bot-wide pace against Telegram's limit of about 30 messages a second, as Telegram counts
them: when a call arrives, which may be well after the bot took its slot."""

from __future__ import annotations

import contextlib

import pytest

from bot.telegram import pacing
from bot.telegram.pacing import Pacers, Rate
from tests.doubles.fake_telegram_limits import ApiError, FloodController, FloodLimits
from tests.telegram.mocked_bot import cadence

STEP = 0.005
ROUND_TRIP = 0.02  # from arrival at Telegram to the answer back at the bot


def _replay(monkeypatch: pytest.MonkeyPatch, delay: list[float], seconds: float) -> tuple[int, int]:
    """Take slots of the bot-wide pacer as soon as it gives them; call n reaches Telegram
    delay[n] seconds later (0 past the list). Returns (calls made, 429s from Telegram)."""
    now = [0.0]
    monkeypatch.setattr(pacing.time, "monotonic", lambda: now[0])
    pacer = Pacers(cadence(Rate(1, 1), Rate(1 / 24, 3))).bot
    telegram = FloodController(FloodLimits(), clock=lambda: now[0])
    on_the_way: list[float] = []  # when each call arrives
    answers: list[float] = []  # when each answer is back
    made = arrived = 0
    while now[0] < seconds:
        for arrival in [a for a in on_the_way if a <= now[0]]:
            on_the_way.remove(arrival)
            answers.append(arrival + ROUND_TRIP)
            arrived += 1
            with contextlib.suppress(ApiError):  # counted by the double
                telegram.check("message", 1000 + arrived)  # one private chat per call
        for back in [b for b in answers if b <= now[0]]:
            answers.remove(back)
            pacer.done()
        if pacer.ready_in() == 0:
            pacer.take()
            on_the_way.append(now[0] + (delay[made] if made < len(delay) else 0.0))
            made += 1
        now[0] = round(now[0] + STEP, 6)
    return made, telegram.count_429


def test_calls_held_up_on_the_way_do_not_reach_telegram_in_a_bunch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A busy event loop (or network) holds the first calls half a second: they arrive with the
    later ones. Counting calls only when taken let 34 arrive within one second: a 429."""
    made, count_429 = _replay(monkeypatch, [0.5] * 10, seconds=3.0)
    assert count_429 == 0
    assert made >= 50  # still about 24 a second once the calls arrive


def test_calls_that_arrive_at_once_keep_the_full_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    made, count_429 = _replay(monkeypatch, [], seconds=3.0)
    assert count_429 == 0
    assert made >= 3 + 24 * 3 - 2  # the bucket's pace: the window does not slow it down
