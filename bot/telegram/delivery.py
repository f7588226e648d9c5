"""Safe Bot API calls for one chat: pacing, 429 waits, plain-text fallback, no empty edits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    DeleteMessage,
    EditMessageText,
    SendChatAction,
    SendMessage,
    SendMessageDraft,
    SendRichMessage,
    SendRichMessageDraft,
)
from aiogram.methods.base import TelegramMethod
from aiogram.types import (
    EphemeralMessageParameters,
    InlineKeyboardMarkup,
    InputRichMessage,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
)

from bot.core.render import Rendered
from bot.logging_setup import error_kind
from bot.telegram.pacing import Pacer, try_take
from bot.telegram.rich import RichRefused, RichUnavailable, is_content_rejection

log = logging.getLogger(__name__)

T = TypeVar("T")

FINAL_ATTEMPTS = 5
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Rejections that entity detection causes (e-mail-like tokens): resent once with detection off.
DETECTION_ERRORS = ("EMAIL_INVALID", "URL_INVALID", "PHONE_INVALID")


@dataclass(slots=True)
class ApiCounters:
    """Bot API calls and 429s met, for the benchmark and metrics."""

    calls: int = 0
    retry_after: int = 0


class DraftsRefused(Exception):
    """Telegram will not show drafts in this chat (TEXTDRAFT_PEER_INVALID and the like)."""


@dataclass(frozen=True, slots=True)
class Target:
    chat_id: int
    thread_id: int | None = None
    reply_to: int | None = None
    # A group notice shown only to this user, answering their ephemeral message (Bot API 10.3).
    ephemeral_to: int | None = None
    ephemeral_reply: int | None = None
    ephemeral_callback: str | None = None  # ...or the button press it answers


def to_entities(rendered: Rendered) -> list[MessageEntity] | None:
    if not rendered.entities:
        return None
    return [
        MessageEntity(type=e.type, offset=e.offset, length=e.length, url=e.url, language=e.language)
        for e in rendered.entities
    ]


class Delivery:
    """Sends, edits and drafts in one chat. `final` calls insist until delivered."""

    def __init__(
        self,
        bot: Bot,
        target: Target,
        message_pacer: Pacer,
        draft_pacer: Pacer,
        bot_pacer: Pacer,
        counters: ApiCounters,
    ) -> None:
        self._bot = bot
        self._target = target
        self.message_pacers = (message_pacer, bot_pacer)
        self.draft_pacers = (draft_pacer,)
        self._counters = counters

    async def send(
        self,
        content: Rendered,
        markup: InlineKeyboardMarkup | None,
        *,
        final: bool,
        urgent: bool = False,
    ) -> int | None:
        """Send a new message; returns its id, or None when a non-final send was skipped."""
        reply = (
            ReplyParameters(message_id=self._target.reply_to, allow_sending_without_reply=True)
            if self._target.reply_to
            else None
        )
        ephemeral = None
        if self._target.ephemeral_to is not None:
            reply = (
                ReplyParameters(ephemeral_message_id=self._target.ephemeral_reply)
                if self._target.ephemeral_reply is not None
                else None
            )
            ephemeral = EphemeralMessageParameters(
                receiver_user_id=self._target.ephemeral_to,
                callback_query_id=self._target.ephemeral_callback,
            )

        def build(rendered: Rendered) -> SendMessage:
            return SendMessage(
                chat_id=self._target.chat_id,
                message_thread_id=self._target.thread_id,
                text=rendered.text,
                entities=to_entities(rendered),
                parse_mode=None,
                link_preview_options=NO_PREVIEW,
                reply_markup=markup,
                reply_parameters=reply,
                ephemeral_message_parameters=ephemeral,
            )

        message = await self._call(
            build, content, self.message_pacers, final=final, urgent=urgent, resend_unsafe=True
        )
        if isinstance(message, Message) and ephemeral is not None:
            return message.ephemeral_message_id or message.message_id
        return message.message_id if isinstance(message, Message) else None

    async def edit(
        self,
        message_id: int,
        content: Rendered,
        markup: InlineKeyboardMarkup | None,
        *,
        final: bool,
        urgent: bool = False,
    ) -> bool:
        """Edit a message; True when Telegram now shows `content`."""

        def build(rendered: Rendered) -> EditMessageText:
            return EditMessageText(
                chat_id=self._target.chat_id,
                message_id=message_id,
                text=rendered.text,
                entities=to_entities(rendered),
                parse_mode=None,
                link_preview_options=NO_PREVIEW,
                reply_markup=markup,
            )

        result = await self._call(build, content, self.message_pacers, final=final, urgent=urgent)
        return result is not None

    async def draft(self, draft_id: int, content: Rendered, *, urgent: bool = False) -> bool:
        """Show or update the animated draft. Raises DraftsRefused when drafts are not allowed."""

        def build(rendered: Rendered) -> SendMessageDraft:
            return SendMessageDraft(
                chat_id=self._target.chat_id,
                message_thread_id=self._target.thread_id,
                draft_id=draft_id,
                text=rendered.text,
                entities=to_entities(rendered),
                parse_mode=None,
                can_stop=True,
            )

        try:
            result = await self._call(
                build, content, self.draft_pacers, final=False, urgent=urgent, draft=True
            )
        except TelegramBadRequest as exc:
            raise DraftsRefused(exc.message) from exc
        return result is not None

    async def send_rich(self, markdown: str, markup: InlineKeyboardMarkup | None) -> int | None:
        """Send a rich message (final: insists); None when not delivered, never a duplicate.

        Raises RichRefused for refused content and RichUnavailable when the server lacks it."""
        reply = (
            ReplyParameters(message_id=self._target.reply_to, allow_sending_without_reply=True)
            if self._target.reply_to
            else None
        )

        def build(skip: bool) -> SendRichMessage:
            return SendRichMessage(
                chat_id=self._target.chat_id,
                message_thread_id=self._target.thread_id,
                rich_message=_rich(markdown, skip),
                reply_markup=markup,
                reply_parameters=reply,
            )

        message = await self._rich_call(build, resend_unsafe=True)
        return message.message_id if isinstance(message, Message) else None

    async def edit_rich(
        self, message_id: int, markdown: str, markup: InlineKeyboardMarkup | None
    ) -> bool:
        """Turn a message into this rich message (final); raises like `send_rich`."""

        def build(skip: bool) -> EditMessageText:
            return EditMessageText(
                chat_id=self._target.chat_id,
                message_id=message_id,
                rich_message=_rich(markdown, skip),
                reply_markup=markup,
            )

        return await self._rich_call(build) is not None

    async def _rich_call(
        self, build: Callable[[bool], TelegramMethod[Any]], *, resend_unsafe: bool = False
    ) -> Any:
        skip = False
        while True:

            def method(_: Rendered, skip: bool = skip) -> TelegramMethod[Any]:
                return build(skip)

            try:
                return await self._call(
                    method,
                    Rendered(""),
                    self.message_pacers,
                    final=True,
                    resend_unsafe=resend_unsafe,
                    rich=True,
                )
            except RichRefused as exc:
                if skip or not any(e in str(exc) for e in DETECTION_ERRORS):
                    raise
                skip = True

    async def draft_rich(self, draft_id: int, markdown: str, *, urgent: bool = False) -> bool:
        """Show or update the rich draft; raises DraftsRefused, RichRefused, RichUnavailable."""

        def build(_: Rendered) -> SendRichMessageDraft:
            return SendRichMessageDraft(
                chat_id=self._target.chat_id,
                message_thread_id=self._target.thread_id,
                draft_id=draft_id,
                rich_message=_rich(markdown, False),
                can_stop=True,
            )

        try:
            result = await self._call(
                build, Rendered(""), self.draft_pacers, final=False, urgent=urgent, draft=True,
                rich=True,
            )  # fmt: skip
        except TelegramBadRequest as exc:
            raise DraftsRefused(exc.message) from exc
        return result is not None

    async def delete(self, message_id: int) -> None:
        def build(_: Rendered) -> DeleteMessage:
            return DeleteMessage(chat_id=self._target.chat_id, message_id=message_id)

        await self._call(build, Rendered(""), self.message_pacers, final=True)

    async def typing(self) -> None:
        method = SendChatAction(
            chat_id=self._target.chat_id,
            message_thread_id=self._target.thread_id,
            action="typing",
        )
        try:
            if not try_take(self.draft_pacers, reserve=1):
                return
            self._counters.calls += 1
            await self._bot(method)
        except TelegramRetryAfter as exc:
            self._counters.retry_after += 1
            self.draft_pacers[0].defer(exc.retry_after)
        except TelegramAPIError as exc:
            log.info("typing action failed chat=%s error=%s", self._target.chat_id, exc.message)

    async def _call(
        self,
        build: Callable[[Rendered], TelegramMethod[Any]],
        content: Rendered,
        pacers: tuple[Pacer, ...],
        *,
        final: bool,
        urgent: bool = False,
        draft: bool = False,
        resend_unsafe: bool = False,
        rich: bool = False,
    ) -> Any:
        plain = False
        attempt = 0
        while True:
            attempt += 1
            rendered = Rendered(content.text) if plain else content
            if final:
                for pacer in pacers:
                    await pacer.acquire()
            elif not try_take(pacers, reserve=0 if urgent else 1):
                return None
            self._counters.calls += 1
            try:
                return await self._bot(build(rendered))
            except TelegramRetryAfter as exc:
                self._counters.retry_after += 1
                pacers[0].defer(exc.retry_after)
                log.warning(
                    "flood control chat=%s retry_after=%s final=%s",
                    self._target.chat_id,
                    exc.retry_after,
                    final,
                )
                if not final or attempt >= FINAL_ATTEMPTS:
                    return None
            except TelegramBadRequest as exc:
                text = exc.message.lower()
                if "message is not modified" in text:
                    return True
                if "can't parse entities" in text and not plain and content.entities:
                    log.warning(
                        "entities refused, resending as plain text chat=%s", self._target.chat_id
                    )
                    plain = True
                    continue
                if rich and "text is empty" in text and _rich_text(build(content)):
                    # Non-empty rich content read as an empty text: the server ignored it.
                    raise RichUnavailable(exc.message) from exc
                if rich and not draft:
                    # Telegram publishes no list of rich rejections (RICH_MESSAGE_*, can't parse,
                    # RICH_VALIDATE_*, ...): any other 400 sends this message by the text path.
                    raise RichRefused(exc.message) from exc
                if rich and is_content_rejection(exc.message):
                    raise RichRefused(exc.message) from exc
                if draft:
                    raise
                log.warning("bad request chat=%s error=%s", self._target.chat_id, exc.message)
                return None
            except (TelegramNetworkError, TelegramServerError) as exc:
                log.warning(
                    "telegram unreachable chat=%s error=%s", self._target.chat_id, error_kind(exc)
                )
                # A send that timed out may have been delivered: never resend it (no duplicates).
                # Edits are idempotent and a 5xx means nothing was done: those are retried.
                ambiguous = resend_unsafe and isinstance(exc, TelegramNetworkError)
                if not final or ambiguous or attempt >= FINAL_ATTEMPTS:
                    return None
                await asyncio.sleep(min(2.0**attempt / 2, 8.0))
            except TelegramNotFound as exc:
                if rich and "method not found" in exc.message.lower():
                    raise RichUnavailable(exc.message) from exc
                log.warning("telegram refused chat=%s error=%s", self._target.chat_id, exc.message)
                return None
            except TelegramAPIError as exc:
                # Blocked by the user, removed from the group, chat gone: nothing to retry.
                log.warning("telegram refused chat=%s error=%s", self._target.chat_id, exc.message)
                return None


def _rich_text(method: TelegramMethod[Any]) -> str:
    rich = getattr(method, "rich_message", None)
    return rich.markdown or "" if isinstance(rich, InputRichMessage) else ""


def _rich(markdown: str, skip_detection: bool) -> InputRichMessage:
    return InputRichMessage(markdown=markdown, skip_entity_detection=skip_detection or None)
