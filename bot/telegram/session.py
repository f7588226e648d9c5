"""aiogram's HTTP session with its parsed response types kept alive, and getUpdates read one
update at a time when the batch does not parse."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import ClientDecodeError
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Update
from pydantic import ValidationError

log = logging.getLogger(__name__)


class PinnedAiohttpSession(AiohttpSession):
    """Holds every ``Response[T]`` aiogram builds to parse a result.

    pydantic caches parametrised generic models only weakly, so after a garbage collection
    aiogram rebuilds ``Response[Message]`` and friends: about 8 ms of CPU each time, on the
    path of a live reply (bench/stream_bench.py --profile). One strong reference per result
    type keeps the cached class.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pinned: dict[Any, type[Response[Any]]] = {}

    def check_response(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        status_code: int,
        content: str,
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self._pinned:
            self._pinned[returning] = Response[returning]  # type: ignore[valid-type]
        try:
            return super().check_response(bot, method, status_code, content)
        except ClientDecodeError:
            # aiogram validates the whole batch: one bad update failed it, and polling would
            # fetch the same batch for ever. Each bad one is emptied to its update_id (so the
            # offset moves past it; the dispatcher skips an update with no content).
            cleaned = _without_bad_updates(bot, content) if isinstance(method, GetUpdates) else None
            if cleaned is None:
                raise
            return super().check_response(bot, method, status_code, cleaned)


def _without_bad_updates(bot: Bot, content: str) -> str | None:
    """The getUpdates reply with each update that does not parse reduced to its update_id (one
    log line each, naming where it failed, never its text); None when the reply itself is bad."""
    try:
        reply = json.loads(content)
    except ValueError:
        return None
    updates = reply.get("result") if isinstance(reply, dict) else None
    if not isinstance(updates, list):
        return None
    kept: list[object] = []
    for update in updates:
        try:
            Update.model_validate(update, context={"bot": bot})
        except ValidationError as exc:
            update_id = log_skipped(update, exc)
            if update_id is not None:
                kept.append({"update_id": update_id})
            continue
        kept.append(update)
    return json.dumps({**reply, "result": kept})


def log_skipped(update: object, exc: ValidationError) -> int | None:
    """One log line for an update that does not parse, naming where it failed, never its text;
    its update_id when it has one."""
    update_id = update.get("update_id") if isinstance(update, dict) else None
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    log.warning(
        "update skipped: it does not parse update_id=%s at=%s error=%s",
        update_id, where, first["type"],
    )  # fmt: skip
    return update_id if isinstance(update_id, int) and not isinstance(update_id, bool) else None
