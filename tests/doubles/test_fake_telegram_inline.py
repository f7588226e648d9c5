"""The fake Telegram's inline mode answers like Telegram: queries expire, results are checked,
only a result with a keyboard gets an inline_message_id, edits by it are limited."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
)

from tests.doubles.fake_telegram import FakeTelegramServer
from tests.doubles.fake_telegram_inline import QUERY_TOO_OLD
from tests.doubles.telegram_fixtures import FakeClock

FAKE_CLOCK = True
USER, GROUP = 51, -100_51
KEYS = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="▶", callback_data="go")]])


def _article(result_id: str, keyboard: bool = True) -> InlineQueryResultArticle:
    return InlineQueryResultArticle(
        id=result_id, title="Ask", reply_markup=KEYS if keyboard else None,
        input_message_content=InputTextMessageContent(message_text="❓ q\n\n⏳"),
    )  # fmt: skip


async def test_a_query_answered_late_or_twice_is_too_old(
    tg: FakeTelegramServer, bot: Bot, clock: FakeClock
) -> None:
    late = await tg.send_inline_query(USER, "late")
    clock.now += 11
    with pytest.raises(TelegramBadRequest, match=QUERY_TOO_OLD):
        await bot.answer_inline_query(late, [_article("a")])
    fresh = await tg.send_inline_query(USER, "fresh")
    assert await bot.answer_inline_query(fresh, [_article("a")], cache_time=5, is_personal=True)
    with pytest.raises(TelegramBadRequest, match=QUERY_TOO_OLD):
        await bot.answer_inline_query(fresh, [_article("a")])
    with pytest.raises(TelegramBadRequest, match="QUERY_ID_INVALID"):
        await bot.answer_inline_query("not-an-id", [_article("a")])


async def test_results_are_checked(tg: FakeTelegramServer, bot: Bot) -> None:
    for results, error in (
        ([_article("same"), _article("same")], "RESULT_ID_DUPLICATE"),
        ([_article("x" * 65)], "RESULT_ID_INVALID"),
        ([_article(str(n)) for n in range(51)], "RESULTS_TOO_MUCH"),
    ):
        query = await tg.send_inline_query(USER, "q")
        with pytest.raises(TelegramBadRequest, match=error):
            await bot.answer_inline_query(query, results)


async def test_only_a_result_with_a_keyboard_can_be_edited(
    tg: FakeTelegramServer, bot: Bot
) -> None:
    query = await tg.send_inline_query(USER, "q")
    await bot.answer_inline_query(query, [_article("with"), _article("without", False)])
    assert await tg.choose_inline_result(query, "without", GROUP) is None
    inline_id = await tg.choose_inline_result(query, "with", GROUP)
    assert inline_id is not None
    chosen = [u["chosen_inline_result"] for u in tg.pending_updates if "chosen_inline_result" in u]
    assert [c.get("inline_message_id") for c in chosen] == [None, inline_id]
    assert await bot.edit_message_text(text="answer", inline_message_id=inline_id) is True
    assert tg.inline_text(inline_id) == "answer"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(text="answer", inline_message_id=inline_id)
    with pytest.raises(TelegramBadRequest, match="MESSAGE_ID_INVALID"):
        await bot.edit_message_text(text="answer", inline_message_id="AQAAAnope")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.edit_message_text(text="x" * 4097, inline_message_id=inline_id)


async def test_without_inline_feedback_no_choice_is_reported(
    tg: FakeTelegramServer, bot: Bot
) -> None:
    tg.inline_feedback = False
    query = await tg.send_inline_query(USER, "q")
    await bot.answer_inline_query(query, [_article("with")])
    inline_id = await tg.choose_inline_result(query, "with", GROUP)
    assert inline_id is not None
    assert not [u for u in tg.pending_updates if "chosen_inline_result" in u]
    press = await tg.press_inline_button(inline_id, "go", USER)
    (update,) = [u["callback_query"] for u in tg.pending_updates if "callback_query" in u]
    assert update["id"] == press and update["inline_message_id"] == inline_id
    assert "message" not in update
