"""The one error handler: domain errors become user text; anything else is logged, never shown."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from bot.core.errors import BotError
from bot.telegram.texts import Lang, t
from bot.telegram.turn import Turn, error_text

log = logging.getLogger(__name__)


async def on_error(
    event: ErrorEvent, bot: Bot, lang: Lang = "en", turn: Turn | None = None
) -> None:
    """`lang` and `turn` come from the context middleware, as for every handler."""
    update_id = event.update.update_id
    if isinstance(event.exception, BotError):
        log.warning("update failed update_id=%s error=%s", update_id, event.exception)
        text = error_text(event.exception, lang)
    else:
        log.error("update failed update_id=%s", update_id, exc_info=event.exception)
        text = t("error_generic", lang)
    if turn is None:
        return
    try:
        await bot.send_message(turn.chat_id, text, message_thread_id=turn.thread_id)
    except TelegramAPIError as exc:
        log.warning("could not report the error update_id=%s error=%s", update_id, exc)


def router() -> Router:
    errors = Router(name="errors")
    errors.errors.register(on_error)
    return errors
