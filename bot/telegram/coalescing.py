"""The coalescing step of the dispatcher: messages sent together reach the handlers as one.

Register it as an update outer middleware AFTER LanguageMiddleware and BEFORE ChatOrderMiddleware:
the opener of a window waits there, outside its chat's order lock, so the next part of a paste can
come in and join; holding the lock would make the next part wait behind the first one.

The handler of the first message then finds ``batch`` (a ``Batch[Message]``) in its data, with
every part in message order; the updates of the parts that joined end here, unhandled.
A message that opens no window and finds none open passes straight through, with ``batch`` holding
just that message; a message that is not coalescable (a command, a service message, a sticker)
passes through with no ``batch`` in the data.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, ClassVar

from aiogram import BaseMiddleware, Bot
from aiogram.types import Message, TelegramObject, Update

from bot.config import Settings
from bot.core.coalesce import Batch, CoalesceConfig, Coalescer, Part
from bot.telegram.addressing import called_text
from bot.telegram.input_kinds import KINDS, InputKind
from bot.telegram.inputs import coalescable, coalesce_key, part_of
from bot.telegram.middleware import Next

log = logging.getLogger(__name__)


class CoalesceMiddleware(BaseMiddleware):
    """Update middleware: puts ``batch`` into handler data; drops the updates that joined one."""

    provides: ClassVar[dict[str, Any]] = {"batch": Batch}

    def __init__(self, coalescer: Coalescer[Message], kinds: Sequence[InputKind] = KINDS) -> None:
        """`kinds`: the input kinds the bot reads (a kind that is off does not coalesce)."""
        self._coalescer = coalescer
        self._kinds = kinds

    async def __call__(self, handler: Next, event: TelegramObject, data: dict[str, Any]) -> Any:
        message = event.message if isinstance(event, Update) else None
        if message is None or not coalescable(message, self._kinds):
            return await handler(event, data)
        part = part_of(message, self._kinds)
        if await _bare_call(message, part, data.get("bot")):  # "@bot" alone: the question follows
            part = replace(part, kind="call")
        batch: Batch[Message] | None = await self._coalescer.offer(coalesce_key(message), part)
        if batch is None:
            log.info("message joined a turn update_id=%s", getattr(event, "update_id", None))
            return None
        data["batch"] = batch
        return await handler(event, data)


async def _bare_call(message: Message, part: Part[Message], bot: object) -> bool:
    """A group text that calls the bot and says nothing else."""
    if part.kind != "text" or message.chat.type == "private" or not isinstance(bot, Bot):
        return False
    return called_text(message, await bot.me()) == ""


def coalesce_config(settings: Settings) -> CoalesceConfig:
    """The coalescer's settings; COALESCE_WINDOW=0 turns coalescing off."""
    return CoalesceConfig(
        gap=settings.coalesce_window,
        settle=settings.coalesce_settle,
        max_wait=settings.coalesce_max_wait,
        near_limit=settings.coalesce_near_limit,
        enabled=settings.coalesce_window > 0,
    )
