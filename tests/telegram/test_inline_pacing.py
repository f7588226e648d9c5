"""Edits of an inline message are paced by its inline_message_id (it has no chat), at the
Cadence's inline rate, and a 429 holds back that message only."""

from __future__ import annotations

import pytest
from aiogram.methods import EditMessageText

from bot.config import Settings
from bot.telegram.bot_api import ApiCounters, CallPolicy, try_call
from bot.telegram.pacing import Cadence, Pacers, Rate
from tests.telegram.mocked_bot import MockedBot

SLOW = Rate(60.0, 1)  # one edit a minute: a second one in a test never has a slot


def _bot() -> tuple[MockedBot, Pacers]:
    bot = MockedBot()
    cadence = Cadence(
        draft=Rate(0.5, 1), private_edit=Rate(0.01, 5), group_edit=Rate(0.01, 5),
        draft_keepalive=20.0, typing_every=4.5, inline_edit=SLOW, bot=Rate(0.001, 30),
    )  # fmt: skip
    pacers = Pacers(cadence)
    bot.session.middleware(CallPolicy(pacers, ApiCounters()))
    return bot, pacers


def _edit(inline_id: str, text: str) -> EditMessageText:
    return EditMessageText(inline_message_id=inline_id, text=text)


def test_the_inline_rate_is_the_group_edit_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "BOT_TOKEN": "1:x",
        "GONKA_API_KEY": "k",
        "GROUP_EDIT_INTERVAL": "4",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert Cadence.of(settings).inline_edit == Rate(4.0, 1)


async def test_streamed_inline_edits_take_the_messages_own_slot() -> None:
    bot, _ = _bot()
    assert await try_call(bot, _edit("AAA", "one"), urgent=True) is True
    assert await try_call(bot, _edit("AAA", "two"), urgent=True) is None  # no slot: skipped
    assert await try_call(bot, _edit("BBB", "one"), urgent=True) is True  # another message
    assert [s.method.text for s in bot.mocked.of(EditMessageText)] == ["one", "one"]


async def test_a_429_on_an_inline_edit_holds_back_that_message_only() -> None:
    bot, pacers = _bot()
    bot.mocked.add_error(429, "Too Many Requests: retry after 7", retry_after=7)
    assert await try_call(bot, _edit("CCC", "text"), urgent=True) is None
    assert pacers.get("CCC", "inline").ready_in() > 5
    assert pacers.get("DDD", "inline").ready_in() == 0
