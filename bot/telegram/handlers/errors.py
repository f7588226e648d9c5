"""The one error handler: domain errors become user text; anything else is logged, never shown."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from bot.core.errors import BotError
from bot.telegram.responder import error_text
from bot.telegram.texts import lang_of, t

log = logging.getLogger(__name__)


def setup() -> Router:
    router = Router(name="errors")

    @router.errors()
    async def on_error(event: ErrorEvent, bot: Bot) -> None:
        update = event.update
        query = update.callback_query
        user = update.message.from_user if update.message else None
        chat_id = update.message.chat.id if update.message else None
        thread_id = (
            update.message.message_thread_id
            if update.message and update.message.is_topic_message
            else None
        )
        if query is not None:
            user = query.from_user
            chat_id = query.message.chat.id if query.message else None
        lang = lang_of(user.language_code if user else None)
        if isinstance(event.exception, BotError):
            log.warning("update failed update_id=%s error=%s", update.update_id, event.exception)
            text = error_text(event.exception, lang)
        else:
            log.error("update failed update_id=%s", update.update_id, exc_info=event.exception)
            text = t("error_generic", lang)
        if chat_id is None:
            return
        try:
            await bot.send_message(chat_id, text, message_thread_id=thread_id)
        except TelegramAPIError as exc:
            log.warning("could not report the error update_id=%s error=%s", update.update_id, exc)

    return router
