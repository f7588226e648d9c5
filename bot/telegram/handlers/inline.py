"""Inline mode: `@bot question` in any chat. A query is answered at once (no model call); the
choice (chosen_inline_result, or the ▶ button when inline feedback is off) and 🔄 stream the
answer into the inline message; /start inl_<id> shows a long answer in full."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import CallbackQuery, ChosenInlineResult, InlineQuery, Message

from bot.telegram.bot_api import api_error
from bot.telegram.filters import ChatType
from bot.telegram.inline_answers import FULL_PREFIX, AnswerButton, InlineAnswers, RegenButton
from bot.telegram.inline_queries import CACHE_TIME, InlineQueries
from bot.telegram.texts import Lang, t

log = logging.getLogger(__name__)


async def on_inline_query(query: InlineQuery, lang: Lang, inline_queries: InlineQueries) -> None:
    result = await inline_queries.result(query.from_user.id, query.query, lang)
    try:
        await query.answer([result], cache_time=CACHE_TIME, is_personal=True)
    except TelegramAPIError as exc:  # too old: the user typed on, a newer query follows
        log.info("inline query not answered error=%s", api_error(exc))


async def on_chosen(chosen: ChosenInlineResult, lang: Lang, inline_answers: InlineAnswers) -> None:
    inline_id = chosen.inline_message_id
    if inline_id is None:
        return  # a note, not a question: nothing to answer
    started = await inline_answers.start(chosen.result_id, inline_id, chosen.from_user.id)
    if started.outcome == "gone":  # kept past its time: say so rather than wait forever
        await inline_answers.tell(inline_id, t("inline_gone", lang))


async def on_answer_button(
    query: CallbackQuery, callback_data: AnswerButton, lang: Lang, inline_answers: InlineAnswers
) -> None:
    await _start(query, callback_data.result, 0, lang, inline_answers)


async def on_regen_button(
    query: CallbackQuery, callback_data: RegenButton, lang: Lang, inline_answers: InlineAnswers
) -> None:
    await _start(query, callback_data.result, callback_data.attempt, lang, inline_answers)


async def _start(
    query: CallbackQuery, result_id: str, attempt: int, lang: Lang, answers: InlineAnswers
) -> None:
    if query.inline_message_id is None:
        await query.answer()
        return
    check = await answers.check(result_id, query.from_user.id)
    if check is not None:
        await query.answer(t(f"inline_{check}", lang), show_alert=check == "not_yours")
        return
    await query.answer()  # before the answer streams: Telegram waits for this one
    await answers.start(result_id, query.inline_message_id, query.from_user.id, attempt)


async def on_full_answer(
    message: Message, command: CommandObject, lang: Lang, inline_answers: InlineAnswers
) -> None:
    result_id = (command.args or "").removeprefix(FULL_PREFIX)
    text = await inline_answers.full_text(result_id)
    user = message.from_user
    if text is None or user is None:
        await message.answer(t("inline_full_gone", lang))
        return
    await inline_answers.send_full(result_id, user.id, text, lang)


def router() -> Router:
    inline = Router(name="inline")
    inline.inline_query.register(on_inline_query)
    inline.chosen_inline_result.register(on_chosen)
    inline.callback_query.register(on_answer_button, AnswerButton.filter())
    inline.callback_query.register(on_regen_button, RegenButton.filter())
    inline.message.register(
        on_full_answer,
        CommandStart(deep_link=True, magic=F.args.startswith(FULL_PREFIX)),
        ChatType("private"),
    )
    return inline
