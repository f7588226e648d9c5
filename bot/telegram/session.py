"""aiogram's HTTP session with its parsed response types kept alive."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType


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
        return super().check_response(bot, method, status_code, content)
