"""Edit to redo: an edited question the bot answered is answered again, in place of its turn.

The latest question is redone at once; an older one offers "Redo from here (drops N later
turns)", which only its asker may press. An edit of a message the bot never answered, of
someone else's question, or of its formatting only, changes nothing. In a group the edited
message must still call the bot. An edit of a question whose answer is streaming (on whichever
replica) stops that answer first."""

from __future__ import annotations

import asyncio
import functools

from aiogram import Bot, Router
from aiogram.types import CallbackQuery, Message, Update

from bot.core.ports import ChatOrder
from bot.core.redo import Edit
from bot.core.speakers import group_message, private_message
from bot.telegram.addressing import quoted
from bot.telegram.admission import Admission
from bot.telegram.answering import Answering
from bot.telegram.buttons import RedoButton, one_button
from bot.telegram.handlers.chat import called_in
from bot.telegram.notices import Notices
from bot.telegram.texts import Lang, t
from bot.telegram.turn import Turn, turn_of


async def question_of(message: Message, bot: Bot) -> str | None:
    """The question an edited text message asks now, as a new one would; None when it does
    not call the bot (a group) or has no text."""
    me = await bot.me()
    quote = quoted(message, me)
    if message.chat.type == "private":
        text = message.text or message.caption or ""
        return private_message(text, quote[1] if quote else None) if text else None
    question = called_in([message], me)
    if not question:
        return None
    speaker = message.from_user.full_name if message.from_user else "?"
    return group_message(speaker, question, quote)


async def on_edited(
    edited_message: Message,
    lang: Lang,
    event_update: Update,
    order: ChatOrder,
    admission: Admission,
    answering: Answering,
    notices: Notices,
    bot: Bot,
) -> None:
    message = edited_message
    if message.from_user is None or message.from_user.is_bot:
        return
    content = await question_of(message, bot)
    if content is None:
        return
    turn = turn_of(message, lang)
    # Aside: the edit enters its chat's order before the next update whatever this waits for.
    stopping = asyncio.create_task(_stop_its_answer(turn, message.message_id, answering))
    run = functools.partial(
        _edited, turn, message.message_id, content, stopping, admission, answering, notices
    )
    await order.run(message.chat.id, event_update.update_id, run)


async def _stop_its_answer(turn: Turn, message_id: int, answering: Answering) -> None:
    """Stop the answer to message `message_id` if it streams now, on whichever replica."""
    streaming = await answering.streaming(turn)
    if streaming is not None and streaming.asked == message_id:
        await answering.stop_streaming(turn.chat_id, streaming)


async def _edited(
    turn: Turn,
    message_id: int,
    content: str,
    stopping: asyncio.Task[None],
    admission: Admission,
    answering: Answering,
    notices: Notices,
) -> None:
    """In the chat's turn (once the answer streaming to the question was asked to stop): the
    latest question is redone; an older one asks first."""
    await asyncio.wait({stopping})
    edit = await answering.edited(turn, content)
    if edit is None:
        return
    if edit.later:
        button = one_button(
            t("redo_button", turn.lang, count=edit.later), RedoButton(message=message_id)
        )
        await notices.send(turn, t("redo_offer", turn.lang), button)
        return
    await _redo(turn, edit, message_id, admission, answering, notices)


async def _redo(
    turn: Turn,
    edit: Edit,
    message_id: int,
    admission: Admission,
    answering: Answering,
    notices: Notices,
) -> None:
    verdict = await admission.admit(turn)
    if verdict is None:
        return
    if not await answering.redo(turn, verdict.limits, edit, message_id):
        await notices.notify(turn, t("nothing_to_regenerate", turn.lang))


async def on_redo(
    query: CallbackQuery,
    callback_data: RedoButton,
    lang: Lang,
    event_update: Update,
    order: ChatOrder,
    admission: Admission,
    answering: Answering,
    notices: Notices,
    turn: Turn | None = None,
) -> None:
    message = query.message
    if not isinstance(message, Message) or turn is None:
        await query.answer(t("regenerate_stale", lang))
        return
    asked = callback_data.message
    edit = await answering.pending_edit(turn, asked)
    if edit is None:
        await query.answer(t("redo_refused", lang))
        return
    await query.answer()
    # The question's turn: the new answer replies to the edited question in a group.
    redo_turn = turn_of(message, lang, user_id=turn.user_id)
    redo_turn = Turn(
        redo_turn.chat_id, redo_turn.private, redo_turn.thread_id, turn.user_id, lang,
        reply_to=None if turn.private else asked, message_id=asked,
    )  # fmt: skip
    run = functools.partial(_pressed, redo_turn, message, asked, admission, answering, notices)
    await order.run(message.chat.id, event_update.update_id, run)


async def _pressed(
    turn: Turn,
    offer: Message,
    asked: int,
    admission: Admission,
    answering: Answering,
    notices: Notices,
) -> None:
    """In the chat's turn: the edit still waits (a second press finds it done)."""
    edit = await answering.pending_edit(turn, asked)
    if edit is None:
        return
    await offer.edit_reply_markup(reply_markup=None)
    await _redo(turn, edit, asked, admission, answering, notices)


def router() -> Router:
    edits = Router(name="edits")
    edits.edited_message.register(on_edited)
    edits.callback_query.register(on_redo, RedoButton.filter())
    return edits
