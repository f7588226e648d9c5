"""The Stop and Continue buttons, and Telegram's native stop of a draft. A press is checked
before anything changes."""

from __future__ import annotations

import contextlib
import dataclasses
import functools

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message, MessageGenerationStopped, Update

from bot.core.ports import ChatOrder
from bot.telegram.admission import Admission
from bot.telegram.answering import Answering
from bot.telegram.buttons import ContinueButton, StopButton
from bot.telegram.notices import Notices
from bot.telegram.stopping import Stopping
from bot.telegram.texts import Lang, t
from bot.telegram.turn import Turn


async def on_stop(
    query: CallbackQuery, callback_data: StopButton, lang: Lang, stopping: Stopping
) -> None:
    chat_id = query.message.chat.id if query.message else query.from_user.id
    stopped = await stopping.stop(chat_id, callback_data.generation, query.from_user.id)
    await query.answer(t("stopping", lang) if stopped else None)


async def on_continue(
    query: CallbackQuery,
    callback_data: ContinueButton,
    lang: Lang,
    order: ChatOrder,
    event_update: Update,
    admission: Admission,
    answering: Answering,
    notices: Notices,
    turn: Turn | None = None,
) -> None:
    message = query.message
    if not isinstance(message, Message) or turn is None:
        await query.answer(t("nothing_to_continue", lang))
        return
    await query.answer()
    # The notices of a continuation go to the chat, not to the presser alone.
    turn = dataclasses.replace(turn, callback_query_id=None)
    go_on = functools.partial(
        continue_in_turn, turn, message, callback_data.generation, admission, answering, notices
    )
    await order.run(message.chat.id, event_update.update_id, go_on)


async def continue_in_turn(
    turn: Turn,
    message: Message,
    generation_id: str,
    admission: Admission,
    answering: Answering,
    notices: Notices,
) -> None:
    """In the chat's turn: a refused user is told why and leaves the button to others; a press
    naming an answer that cannot be continued changes nothing."""
    verdict = await admission.admit(turn)
    if verdict is None:
        return
    if not await answering.take_continuable(turn, generation_id):
        await notices.notify(turn, t("nothing_to_continue", turn.lang))
        return
    with contextlib.suppress(TelegramAPIError):
        await message.edit_reply_markup(reply_markup=None)
    if not await answering.continue_answer(turn, verdict.limits):
        await notices.notify(turn, t("nothing_to_continue", turn.lang))


async def on_generation_stopped(event: MessageGenerationStopped, stopping: Stopping) -> None:
    await stopping.stop_draft(event.chat.id, event.draft_id)


def router() -> Router:
    buttons = Router(name="buttons")
    buttons.callback_query.register(on_stop, StopButton.filter())
    buttons.callback_query.register(on_continue, ContinueButton.filter())
    buttons.stopped_message_generation.register(on_generation_stopped)
    return buttons
