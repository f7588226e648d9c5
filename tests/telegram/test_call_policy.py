"""The one Bot API call policy (bot/telegram/bot_api.py) against a mocked session."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageText,
    SendMessage,
    SendMessageDraft,
)

from bot.telegram import bot_api
from bot.telegram.bot_api import ApiCounters, CallPolicy, try_call
from bot.telegram.pacing import Cadence, Pacers, Rate
from tests.telegram.mocked_bot import MockedBot

PRIVATE = 1001
GROUP = -100200


FREE = Rate(0.01, 5)
EVERYONE = Rate(0.001, 30)


def _bot(
    private: Rate = FREE, group: Rate = FREE, everyone: Rate = EVERYONE, reserve: int = 1
) -> tuple[MockedBot, ApiCounters]:
    bot = MockedBot()
    counters = ApiCounters()
    cadence = Cadence(
        draft=Rate(0.5, 1), private_edit=private, group_edit=group, bot=everyone,
        draft_keepalive=20.0, typing_every=4.5, reserve=reserve,
    )  # fmt: skip
    pacers = Pacers(cadence)
    bot.session.middleware(CallPolicy(pacers, counters))
    return bot, counters


async def test_a_429_is_waited_out_and_the_call_made_again() -> None:
    bot, counters = _bot()
    bot.mocked.add_error(429, "Too Many Requests: retry after 1", retry_after=1)
    message = await bot.send_message(PRIVATE, "hello")
    first, second = bot.mocked.of(SendMessage)
    assert message.text == "hello"
    assert second.at - first.at >= 0.95
    assert (counters.calls, counters.retry_after) == (2, 1)


async def test_a_notice_outside_any_chat_pace_still_waits_out_a_429() -> None:
    bot, _ = _bot()
    bot.mocked.add_error(429, "Too Many Requests: retry after 1", retry_after=1)
    assert await bot.answer_callback_query("q1", text="Stopping…")
    first, second = bot.mocked.of(AnswerCallbackQuery)
    assert second.at - first.at >= 0.95


async def test_a_streamed_update_is_skipped_not_resent_after_a_429() -> None:
    bot, counters = _bot()
    bot.mocked.add_error(429, "Too Many Requests: retry after 2", retry_after=2)
    draft = SendMessageDraft(chat_id=PRIVATE, draft_id=1, text="Hel")
    assert await try_call(bot, draft, urgent=True) is None
    # The chat's draft pace is blocked for retry_after: the next update is skipped, unsent.
    assert await try_call(bot, draft, urgent=True) is None
    assert bot.mocked.names() == ["SendMessageDraft"]
    assert counters.retry_after == 1


async def test_streamed_updates_keep_a_slot_for_the_final_message() -> None:
    bot, _ = _bot(private=Rate(1.0, 2))
    edit = EditMessageText(chat_id=PRIVATE, message_id=5, text="x")
    assert await try_call(bot, edit) is not None  # 2 slots: one taken, one kept
    assert await try_call(bot, edit) is None
    started = time.monotonic()
    await bot.send_message(PRIVATE, "final")  # takes the kept slot at once
    assert time.monotonic() - started < 0.1


async def test_the_slots_kept_for_the_final_message_are_the_cadences() -> None:
    bot, _ = _bot(private=Rate(1.0, 3), reserve=2)
    edit = EditMessageText(chat_id=PRIVATE, message_id=5, text="x")
    assert await try_call(bot, edit) is not None  # 3 slots: one taken, two kept
    assert await try_call(bot, edit) is None
    assert await try_call(bot, edit, urgent=True) is not None  # the kept ones: first text...
    assert await try_call(bot, edit, urgent=True) is not None  # ...and the final message
    assert await try_call(bot, edit, urgent=True) is None


async def test_message_is_not_modified_is_success() -> None:
    bot, _ = _bot()
    bot.mocked.add_error(
        400,
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message",
    )
    assert await bot.edit_message_text("same", chat_id=PRIVATE, message_id=5) is True


async def test_a_send_that_timed_out_is_never_sent_again() -> None:
    bot, _ = _bot()
    bot.mocked.add_timeout()
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(PRIVATE, "maybe delivered")
    assert bot.mocked.names() == ["SendMessage"]


async def test_an_edit_that_timed_out_is_made_again() -> None:
    bot, _ = _bot()
    bot.mocked.add_timeout()
    await bot.edit_message_text("edit", chat_id=PRIVATE, message_id=5)
    assert bot.mocked.names() == ["EditMessageText", "EditMessageText"]


async def test_a_final_call_gives_up_after_its_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot_api, "FINAL_ATTEMPTS", 2)
    bot, counters = _bot(private=Rate(0.01, 5))
    for _ in range(2):
        bot.mocked.add_error(429, "Too Many Requests: retry after 1", retry_after=1)
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(PRIVATE, "hello")
    assert counters.retry_after == 2


async def test_messages_are_paced_per_chat_and_bot_wide() -> None:
    bot, _ = _bot(private=Rate(0.2, 1), group=Rate(0.2, 1), everyone=Rate(0.1, 1))
    await asyncio.gather(*(bot.send_message(PRIVATE, f"p{n}") for n in range(3)))
    times = [sent.at for sent in bot.mocked.requests]
    assert [round(b - a, 1) for a, b in itertools.pairwise(times)] == [0.2, 0.2]
    bot.mocked.requests.clear()
    await asyncio.gather(bot.send_message(PRIVATE + 1, "a"), bot.send_message(GROUP, "b"))
    first, second = (sent.at for sent in bot.mocked.requests)
    # Two chats, each with a free slot: only the bot-wide pace (0.1 s) is between them.
    assert 0.08 <= second - first < 0.18
