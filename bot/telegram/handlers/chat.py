"""Chat: text and rich messages, unsupported content, Stop and Continue buttons, native stop."""

from __future__ import annotations

import contextlib

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message, MessageGenerationStopped, Update

from bot.core.speakers import group_message, private_message
from bot.telegram.addressing import called_rich, called_text, quoted, rich_text_of
from bot.telegram.middlewares import ChatOrder
from bot.telegram.responder import Responder, turn_of
from bot.telegram.texts import Lang, t


def overheard(message: Message) -> bool:
    """A person's own words, fit to keep as group context: not a bot's, not a command, not a
    channel post forwarded into the group."""
    author = message.from_user
    if author is None or author.is_bot or message.is_automatic_forward:
        return False
    return not any(e.type == "bot_command" and e.offset == 0 for e in message.entities or ())


def setup() -> Router:
    router = Router(name="chat")

    @router.message(F.chat.type == "private", F.text)
    async def on_text(message: Message, lang: Lang, responder: Responder, bot: Bot) -> None:
        quote = quoted(message, await bot.me())
        content = private_message(message.text or "", quote[1] if quote else None)
        await responder.answer(turn_of(message, lang), content)

    @router.message(F.chat.type.in_({"group", "supergroup"}), F.text)
    async def on_group_text(message: Message, lang: Lang, responder: Responder, bot: Bot) -> None:
        me = await bot.me()
        question = called_text(message, me)
        turn = turn_of(message, lang)
        if question is None:
            if overheard(message):
                speaker = message.from_user.full_name if message.from_user else "?"
                await responder.overhear(turn, speaker, message.text or "")
            return
        quote = quoted(message, me)
        if not question and quote is None:
            await responder.notify(turn, t("ask_hint", lang, username=me.username or ""))
            return
        speaker = message.from_user.full_name if message.from_user else "?"
        await responder.answer(turn, group_message(speaker, question, quote))

    @router.message(F.chat.type == "private", F.rich_message)
    async def on_rich(message: Message, lang: Lang, responder: Responder, bot: Bot) -> None:
        quote = quoted(message, await bot.me())
        content = private_message(rich_text_of(message), quote[1] if quote else None)
        await responder.answer(turn_of(message, lang), content)

    @router.message(F.chat.type.in_({"group", "supergroup"}), F.rich_message)
    async def on_group_rich(message: Message, lang: Lang, responder: Responder, bot: Bot) -> None:
        me = await bot.me()
        question = called_rich(message, me)
        if not question:
            return
        speaker = message.from_user.full_name if message.from_user else "?"
        await responder.answer(turn_of(message, lang), group_message(speaker, question))

    @router.message(F.chat.type == "private")
    async def on_unsupported(message: Message, lang: Lang, responder: Responder) -> None:
        await responder.unsupported(turn_of(message, lang), "only_text")

    @router.callback_query(F.data.startswith("stop:"))
    async def on_stop_button(query: CallbackQuery, lang: Lang, responder: Responder) -> None:
        generation_id = (query.data or "").removeprefix("stop:")
        chat_id = query.message.chat.id if query.message else query.from_user.id
        stopped = await responder.stop_anywhere(chat_id, generation_id, query.from_user.id)
        await query.answer(t("stopping", lang) if stopped else None)

    @router.callback_query(F.data.startswith("cont:"))
    async def on_continue_button(
        query: CallbackQuery,
        lang: Lang,
        responder: Responder,
        order: ChatOrder,
        event_update: Update,
    ) -> None:
        message = query.message
        if not isinstance(message, Message):
            await query.answer(t("nothing_to_continue", lang))
            return
        await query.answer()
        turn = turn_of(message, lang, user_id=query.from_user.id)
        with contextlib.suppress(TelegramAPIError):
            await message.edit_reply_markup(reply_markup=None)
        generation_id = (query.data or "").removeprefix("cont:")
        continued = await order.run(
            message.chat.id,
            event_update.update_id,
            lambda: responder.continue_answer(turn, generation_id),
        )
        if not continued:
            await responder.notify(turn, t("nothing_to_continue", lang))

    @router.stopped_message_generation()
    async def on_generation_stopped(event: MessageGenerationStopped, responder: Responder) -> None:
        await responder.stop_draft(event.chat.id, event.draft_id)

    return router
