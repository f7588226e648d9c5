"""A Bot whose session answers from a script, in the style of aiogram's tests/mocked_bot.py.

Every request is recorded with the time it left; answers are Bot API JSON bodies passed through
aiogram's own `check_response`, so errors arrive as the exceptions aiogram raises in production
(TelegramRetryAfter, TelegramBadRequest, ...). Session middlewares run as with the real session.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import (
    EditMessageText,
    SendMessage,
    SendRichMessage,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType

from bot.telegram.pacing import Cadence, Rate

Answer = dict[str, Any] | Exception


@dataclass(frozen=True, slots=True)
class Sent:
    at: float
    method: TelegramMethod[Any]

    @property
    def name(self) -> str:
        return type(self.method).__name__


class MockedSession(BaseSession):
    def __init__(self, latency: float = 0.0) -> None:
        super().__init__()
        self.latency = latency
        self.requests: list[Sent] = []
        self._answers: deque[tuple[type[TelegramMethod[Any]] | None, Answer]] = deque()
        self._ids = itertools.count(100)

    def add_error(
        self,
        code: int,
        description: str,
        *,
        retry_after: int | None = None,
        method: type[TelegramMethod[Any]] | None = None,
    ) -> None:
        """The next request (of `method`, when given) fails as Telegram would answer it."""
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self._answers.append((method, body))

    def add_exception(
        self, exc: Exception, method: type[TelegramMethod[Any]] | None = None
    ) -> None:
        """The next request (of `method`, when given) raises `exc`, an error nobody expects."""
        self._answers.append((method, exc))

    def add_timeout(self, method: type[TelegramMethod[Any]] | None = None) -> None:
        self._answers.append((method, TelegramNetworkError(SendMessage(chat_id=0, text=""), "x")))

    def names(self) -> list[str]:
        return [sent.name for sent in self.requests]

    def of(self, kind: type[TelegramMethod[Any]]) -> list[Sent]:
        return [sent for sent in self.requests if isinstance(sent.method, kind)]

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        self.requests.append(Sent(time.monotonic(), method))
        if self.latency:
            await asyncio.sleep(self.latency)
        answer = self._next(method)
        if isinstance(answer, TelegramNetworkError):
            raise TelegramNetworkError(method, "Request timeout error")
        if isinstance(answer, Exception):
            raise answer
        status = int(answer.get("error_code", 200))
        response = self.check_response(bot, method, status, json.dumps(answer))
        return response.result  # type: ignore[return-value]

    def _next(self, method: TelegramMethod[Any]) -> Answer:
        for index, (kind, answer) in enumerate(self._answers):
            if kind is None or isinstance(method, kind):
                del self._answers[index]
                return answer
        return {"ok": True, "result": self._success(method)}

    def _success(self, method: TelegramMethod[Any]) -> Any:
        if getattr(method, "inline_message_id", None):
            return True  # an edit of an inline message answers True, not the message
        if isinstance(method, SendMessage | SendRichMessage | EditMessageText):
            chat_id = getattr(method, "chat_id", 0)
            message_id = getattr(method, "message_id", None) or next(self._ids)
            text = getattr(method, "text", None) or ""
            return {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                "text": text,
            }
        return True

    async def close(self) -> None:
        pass

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:  # pragma: no cover - no downloads in these tests
        yield b""


class MockedBot(Bot):
    def __init__(self, latency: float = 0.0) -> None:
        super().__init__("42:TEST", session=MockedSession(latency))

    @property
    def mocked(self) -> MockedSession:
        assert isinstance(self.session, MockedSession)
        return self.session


def cadence(rate: Rate, everyone: Rate) -> Cadence:
    """One pace for a chat's drafts and messages (`everyone`: the bot-wide one); the settings'
    default keep-alive and typing interval."""
    return Cadence(
        draft=rate, private_edit=rate, group_edit=rate, draft_keepalive=20.0, typing_every=4.5,
        bot=everyone,
    )  # fmt: skip
