"""Conversation control: Regenerate (🔄 and /retry) and flipping between an answer's variants.

A press is checked before anything changes: only the chat's last answer may be answered again,
in a group only by its asker or the group's admins; a second press of the same 🔄 is the same
redo. The redo itself runs in the chat's turn, after the answer streaming there has stopped."""

from __future__ import annotations

import asyncio
import dataclasses
import functools

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, Update

from bot.core.ports import ChatOrder
from bot.core.variants import AnswerVariants
from bot.telegram.admission import Admission
from bot.telegram.answering import Answering
from bot.telegram.buttons import RegenerateButton, VariantButton
from bot.telegram.notices import Notices
from bot.telegram.rights import Rights
from bot.telegram.texts import Lang, t
from bot.telegram.turn import Turn


async def may_redo(turn: Turn, rights: Rights, previous: AnswerVariants | None) -> bool:
    """In a group only the asker of the answer and the group's admins may redo it."""
    if turn.private or previous is None or previous.asker == turn.user_id:
        return True
    return await rights.may("manage_chat")


async def on_regenerate(
    query: CallbackQuery,
    callback_data: RegenerateButton,
    lang: Lang,
    order: ChatOrder,
    event_update: Update,
    rights: Rights,
    admission: Admission,
    answering: Answering,
    notices: Notices,
    turn: Turn | None = None,
) -> None:
    message = query.message
    if not isinstance(message, Message) or turn is None:
        await query.answer(t("regenerate_stale", lang))
        return
    answer = callback_data.answer
    previous = await answering.last_answer(turn)
    if previous is None or previous.answer_id != answer:
        await query.answer(t("regenerate_stale", lang))
        return
    streaming = await answering.streaming(turn)
    redoing = streaming is not None and streaming.redoing == answer
    if redoing or previous.serial != callback_data.serial:
        await query.answer(t("regenerating", lang))  # a second press: the same redo
        return
    if not await may_redo(turn, rights, previous):
        await query.answer(t("regenerate_refused", lang))
        return
    await query.answer(t("regenerating", lang))
    run = functools.partial(
        _regenerate, _answer_turn(turn, message), previous, admission, answering, notices
    )
    await order.run(message.chat.id, event_update.update_id, run)


async def _regenerate(
    turn: Turn,
    pressed: AnswerVariants,
    admission: Admission,
    answering: Answering,
    notices: Notices,
) -> None:
    """In the chat's turn: the press still names the last answer and its latest variant (a
    press queued behind the same redo, here or on another replica, changes nothing)."""
    previous = await answering.last_answer(turn)
    if previous is None or (previous.answer_id, previous.serial) != (
        pressed.answer_id,
        pressed.serial,
    ):
        return
    verdict = await admission.admit(turn)
    if verdict is None:
        return
    if not await answering.regenerate(turn, verdict.limits, previous):
        await notices.notify(turn, t("nothing_to_regenerate", turn.lang))


async def on_variant(
    query: CallbackQuery,
    callback_data: VariantButton,
    lang: Lang,
    order: ChatOrder,
    event_update: Update,
    rights: Rights,
    answering: Answering,
    turn: Turn | None = None,
) -> None:
    message = query.message
    if not isinstance(message, Message) or turn is None:
        await query.answer(t("regenerate_stale", lang))
        return
    previous = await answering.last_answer(turn)
    if previous is None or previous.answer_id != callback_data.answer:
        await query.answer(t("regenerate_stale", lang))
        return
    if not await may_redo(turn, rights, previous):
        await query.answer(t("regenerate_refused", lang))
        return
    streaming = await answering.streaming(turn)
    if streaming is None or streaming.redoing != previous.answer_id:
        streaming = None  # no regeneration of this answer streams, on any replica
    if callback_data.index == previous.current and streaming is None:
        await query.answer()  # the one shown: nothing to change
        return
    if streaming is not None:  # the regeneration streaming stops first
        await answering.stop_streaming(turn.chat_id, streaming)
    flip = functools.partial(answering.flip, turn, callback_data.answer, callback_data.index)
    flipped = await order.run(message.chat.id, event_update.update_id, flip)
    await query.answer(None if flipped else t("regenerate_stale", lang))


async def cmd_retry(
    message: Message,
    turn: Turn,
    rights: Rights,
    admission: Admission,
    answering: Answering,
    notices: Notices,
    stopping_first: asyncio.Task[None] | None = None,
) -> None:
    """Regenerate the chat's last answer (already in the chat's turn: a message), once the
    answer that streamed when it came was asked to stop (bot.telegram.redo_first)."""
    if stopping_first is not None:
        await asyncio.wait({stopping_first})
    previous = await answering.last_answer(turn)
    if not await may_redo(turn, rights, previous):
        await notices.notify(turn, t("regenerate_refused", turn.lang))
        return
    verdict = await admission.admit(turn)
    if verdict is None:
        return
    if not await answering.regenerate(turn, verdict.limits, previous):
        await notices.notify(turn, t("nothing_to_regenerate", turn.lang))


def _answer_turn(turn: Turn, message: Message) -> Turn:
    """The redo's turn: its notices go to the chat; a new message replies to the question."""
    replied = message.reply_to_message
    reply_to = replied.message_id if replied is not None and not turn.private else None
    return dataclasses.replace(turn, callback_query_id=None, reply_to=reply_to)


def router() -> Router:
    conversation = Router(name="conversation")
    conversation.callback_query.register(on_regenerate, RegenerateButton.filter())
    conversation.callback_query.register(on_variant, VariantButton.filter())
    conversation.message.register(cmd_retry, Command("retry"))
    return conversation
