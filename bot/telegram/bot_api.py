"""One policy for every Bot API call the bot makes, as an aiogram session request middleware.

Pacing per chat and bot-wide, the wait a 429's retry_after asks for, "message is not modified"
taken as success, no resend of a send that timed out (it may have been delivered), and counters.
A call is *final* by default: it waits for its slot and insists. A streamed update is not: it
runs inside `streamed()`, keeps slots free for the final answer, and is skipped (`NotSent`)
rather than delayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    DeleteMessage,
    EditMessageReplyMarkup,
    EditMessageText,
    SendChatAction,
    SendMessage,
    SendMessageDraft,
    SendRichMessage,
    SendRichMessageDraft,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType

from bot.logging_setup import error_kind
from bot.telegram.pacing import Pacer, Pacers, try_take

log = logging.getLogger(__name__)

T = TypeVar("T")

FINAL_ATTEMPTS = 5
MESSAGES = (SendMessage, SendRichMessage, EditMessageText, EditMessageReplyMarkup, DeleteMessage)
DRAFTS = (SendMessageDraft, SendRichMessageDraft, SendChatAction)
# Sends that may have been delivered when the answer was lost: never sent twice.
NOT_IDEMPOTENT = (SendMessage, SendRichMessage)


def api_error(exc: TelegramAPIError) -> str:
    """A failed call's error for a log line: what Telegram said, or a network error by type
    (aiohttp puts the request URL, and with it the bot token, in its text)."""
    if isinstance(exc, TelegramNetworkError):
        return error_kind(exc)
    return exc.message


@dataclass(slots=True)
class ApiCounters:
    """Bot API calls and 429s met, for the benchmark and metrics."""

    calls: int = 0
    retry_after: int = 0


class NotSent(Exception):
    """A streamed update was skipped: no free slot, or Telegram asked to wait (429)."""


# None: a final call. False: a streamed update. True: an urgent one (the first visible text).
_streamed: ContextVar[bool | None] = ContextVar("streamed", default=None)


@contextlib.contextmanager
def streamed(*, urgent: bool = False) -> Iterator[None]:
    """Calls made inside are streamed updates: they leave the cadence's reserve of slots free
    (none when `urgent`), and a call that would have to wait is skipped with `NotSent`."""
    token = _streamed.set(urgent)
    try:
        yield
    finally:
        _streamed.reset(token)


async def try_call(bot: Bot, method: TelegramMethod[T], *, urgent: bool = False) -> T | None:
    """A streamed update: its result, or None when it was skipped."""
    with streamed(urgent=urgent):
        try:
            return await bot(method)
        except NotSent:
            return None


class CallPolicy(BaseRequestMiddleware):
    """The request middleware every call of the bot passes through (see the module's doc)."""

    def __init__(self, pacers: Pacers, counters: ApiCounters) -> None:
        self._pacers = pacers
        self.counters = counters

    def pacers_for(self, method: TelegramMethod[Any]) -> tuple[Pacer, ...]:
        """The pacers a call takes a slot of: none for calls that show nothing in a chat."""
        # Fields are read only where the method has them: a missing one is pydantic's
        # __getattr__ raising inside getattr, on every call (drafts above all).
        draft = isinstance(method, DRAFTS)
        if not draft and not isinstance(method, MESSAGES):
            return ()
        inline = getattr(method, "inline_message_id", None) if not draft else None
        if isinstance(inline, str) and inline:
            return self._pacers.of_inline(inline)  # an inline message has no chat: its own pace
        chat_id = getattr(method, "chat_id", None)
        if not isinstance(chat_id, int):
            return ()
        return self._pacers.of_chat(chat_id, draft=draft)

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        if method.__api_method__ == "getUpdates":  # long polling: aiogram's own back-off applies
            return await make_request(bot, method)
        mode = _streamed.get()
        pacers = self.pacers_for(method)
        attempt = 0
        while True:
            attempt += 1
            await self._take_slot(pacers, mode)
            self.counters.calls += 1
            try:
                return await _send(make_request, bot, method, pacers)
            except TelegramBadRequest as exc:
                if "message is not modified" in exc.message.lower():
                    return cast(TelegramType, True)
                raise
            except TelegramRetryAfter as exc:
                await self._retry_after(exc, pacers, mode, attempt)
            except (TelegramNetworkError, TelegramServerError) as exc:
                await self._unreachable(exc, method, mode, attempt)

    async def _take_slot(self, pacers: tuple[Pacer, ...], urgent: bool | None) -> None:
        if urgent is None:
            for pacer in pacers:
                await pacer.acquire()
        elif not try_take(pacers, reserve=0 if urgent else self._pacers.cadence.reserve):
            raise NotSent("no free slot")

    async def _retry_after(
        self,
        exc: TelegramRetryAfter,
        pacers: tuple[Pacer, ...],
        mode: bool | None,
        attempt: int,
    ) -> None:
        """Blocks the chat's pacer for retry_after; raises when the call is not to be retried."""
        self.counters.retry_after += 1
        log.warning(
            "flood control method=%s retry_after=%s final=%s",
            exc.method.__api_method__, exc.retry_after, mode is None,
        )  # fmt: skip
        if pacers:
            pacers[0].defer(exc.retry_after)
        if mode is not None:
            raise NotSent("retry after") from exc
        if attempt >= FINAL_ATTEMPTS:
            raise exc
        if not pacers:  # nothing paces this call: wait here
            await asyncio.sleep(exc.retry_after)

    async def _unreachable(
        self,
        exc: TelegramNetworkError | TelegramServerError,
        method: TelegramMethod[Any],
        mode: bool | None,
        attempt: int,
    ) -> None:
        """Waits before a retry; raises when the call is not to be retried."""
        log.warning(
            "telegram unreachable method=%s error=%s", method.__api_method__, error_kind(exc)
        )
        # A send that timed out may have been delivered: never resend it (no duplicates).
        # Edits are idempotent and a 5xx means nothing was done: those are retried. Queries
        # (getMe for /readyz, chat members) fail fast: their callers decide.
        ambiguous = isinstance(exc, TelegramNetworkError) and isinstance(method, NOT_IDEMPOTENT)
        retried = isinstance(method, MESSAGES) and mode is None and not ambiguous
        if not retried or attempt >= FINAL_ATTEMPTS:
            raise exc
        await asyncio.sleep(min(2.0**attempt / 2, 8.0))


async def _send(
    make_request: NextRequestMiddlewareType[TelegramType],
    bot: Bot,
    method: TelegramMethod[TelegramType],
    pacers: tuple[Pacer, ...],
) -> Any:
    """The call itself; its pacers learn when it ended (the bot-wide one counts calls until
    then: Telegram may count them any time before)."""
    try:
        return await make_request(bot, method)
    finally:
        for pacer in pacers:
            pacer.done()
