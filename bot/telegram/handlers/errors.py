"""The one error handler: domain errors become user text; anything else is logged, never shown."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import ErrorEvent

from bot.core.errors import BotError
from bot.telegram.notices import Notices
from bot.telegram.texts import Lang, t
from bot.telegram.turn import Turn, error_text

log = logging.getLogger(__name__)


async def on_error(
    event: ErrorEvent, notices: Notices, lang: Lang = "en", turn: Turn | None = None
) -> None:
    """`lang` and `turn` come from the context middleware, as for every handler; the notice
    goes out as every other notice does (paced, retried, replying in groups)."""
    update_id = event.update.update_id
    if isinstance(event.exception, BotError):
        log.warning("update failed update_id=%s error=%s", update_id, event.exception)
        text = error_text(event.exception, lang)
    else:
        log.error("update failed update_id=%s", update_id, exc_info=event.exception)
        text = t("error_generic", lang)
    if turn is None:
        return
    await notices.notify(turn, text)


def router() -> Router:
    errors = Router(name="errors")
    errors.errors.register(on_error)
    return errors
