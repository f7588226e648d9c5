"""The Bot API calls of one chat in content terms: send, edit, draft, delete, rich variants.

Pacing, 429 waits and retries are the call policy's (bot/telegram/bot_api.py). Here: building
the methods, the plain-text resend when Telegram cannot parse entities, and what a refusal
means (drafts refused in this chat, rich content refused, rich methods missing).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramNotFound
from aiogram.methods import (
    DeleteMessage,
    EditMessageText,
    SendChatAction,
    SendMessage,
    SendMessageDraft,
    SendRichMessage,
    SendRichMessageDraft,
    TelegramMethod,
)
from aiogram.types import (
    EphemeralMessageParameters,
    InlineKeyboardMarkup,
    InputRichMessage,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
)

from bot.formatting.render import Rendered
from bot.telegram.bot_api import api_error, try_call
from bot.telegram.pacing import Cadence, Pacer, Pacers
from bot.telegram.streaming.rich import RichRefused, RichUnavailable, is_content_rejection

log = logging.getLogger(__name__)

T = TypeVar("T")

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Rejections that entity detection causes (e-mail-like tokens): resent once with detection off.
DETECTION_ERRORS = ("EMAIL_INVALID", "URL_INVALID", "PHONE_INVALID")


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

    def reply_parameters(self) -> ReplyParameters | None:
        if self.ephemeral_to is not None:
            if self.ephemeral_reply is None:
                return None
            return ReplyParameters(ephemeral_message_id=self.ephemeral_reply)
        if self.reply_to:
            return ReplyParameters(message_id=self.reply_to, allow_sending_without_reply=True)
        return None

    def ephemeral(self) -> EphemeralMessageParameters | None:
        if self.ephemeral_to is None:
            return None
        return EphemeralMessageParameters(
            receiver_user_id=self.ephemeral_to, callback_query_id=self.ephemeral_callback
        )


def to_entities(rendered: Rendered) -> list[MessageEntity] | None:
    if not rendered.entities:
        return None
    return [
        MessageEntity(type=e.type, offset=e.offset, length=e.length, url=e.url, language=e.language)
        for e in rendered.entities
    ]


class Outbox:
    """One chat's calls. `final` calls insist until delivered; others are streamed updates."""

    def __init__(self, bot: Bot, target: Target, pacers: Pacers) -> None:
        self._bot = bot
        self._target = target
        self._pacers = pacers

    @property
    def cadence(self) -> Cadence:
        return self._pacers.cadence

    @property
    def standing(self) -> tuple[int, ...]:
        """The messages an answer has before it sends any (an inline message's placeholder)."""
        return ()

    def pacers(self, *, draft: bool) -> tuple[Pacer, ...]:
        """The pacers a live update of this chat waits for (drafts or messages)."""
        return self._pacers.of_chat(self._target.chat_id, draft=draft)

    async def _call(self, method: TelegramMethod[T], *, final: bool, urgent: bool) -> T | None:
        """None when not done: skipped, or refused for good (blocked, chat gone, ...)."""
        try:
            if final:
                return await self._bot(method)
            return await try_call(self._bot, method, urgent=urgent)
        except TelegramBadRequest:
            raise
        except TelegramNotFound as exc:
            if "method not found" in exc.message.lower():
                raise RichUnavailable(exc.message) from exc
            log.warning("telegram refused chat=%s error=%s", self._target.chat_id, exc.message)
            return None
        except TelegramAPIError as exc:
            log.warning("telegram refused chat=%s error=%s", self._target.chat_id, api_error(exc))
            return None

    async def _text_call(
        self,
        build: Callable[[Rendered], TelegramMethod[T]],
        content: Rendered,
        *,
        final: bool,
        urgent: bool,
        draft: bool = False,
    ) -> T | None:
        try:
            return await self._call(build(content), final=final, urgent=urgent)
        except TelegramBadRequest as exc:
            if "can't parse entities" in exc.message.lower() and content.entities:
                log.warning(
                    "entities refused, resending as plain text chat=%s", self._target.chat_id
                )
                return await self._text_call(
                    build, Rendered(content.text), final=final, urgent=urgent, draft=draft
                )
            if draft:
                raise DraftsRefused(exc.message) from exc
            log.warning("bad request chat=%s error=%s", self._target.chat_id, exc.message)
            return None

    async def send(
        self,
        content: Rendered,
        markup: InlineKeyboardMarkup | None,
        *,
        final: bool = True,
        urgent: bool = False,
    ) -> int | None:
        """Send a new message; returns its id, or None when it was not sent."""
        target = self._target
        ephemeral = target.ephemeral()

        def build(rendered: Rendered) -> SendMessage:
            return SendMessage(
                chat_id=target.chat_id, message_thread_id=target.thread_id, text=rendered.text,
                entities=to_entities(rendered), parse_mode=None, link_preview_options=NO_PREVIEW,
                reply_markup=markup, reply_parameters=target.reply_parameters(),
                ephemeral_message_parameters=ephemeral,
            )  # fmt: skip

        message = await self._text_call(build, content, final=final, urgent=urgent)
        if not isinstance(message, Message):
            return None
        if ephemeral is not None:
            return message.ephemeral_message_id or message.message_id
        return message.message_id

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
                chat_id=self._target.chat_id, message_id=message_id, text=rendered.text,
                entities=to_entities(rendered), parse_mode=None, link_preview_options=NO_PREVIEW,
                reply_markup=markup,
            )  # fmt: skip

        return await self._text_call(build, content, final=final, urgent=urgent) is not None

    async def draft(self, draft_id: int, content: Rendered, *, urgent: bool = False) -> bool:
        """Show or update the animated draft. Raises DraftsRefused when drafts are not allowed."""

        def build(rendered: Rendered) -> SendMessageDraft:
            return SendMessageDraft(
                chat_id=self._target.chat_id, message_thread_id=self._target.thread_id,
                draft_id=draft_id, text=rendered.text, entities=to_entities(rendered),
                parse_mode=None, can_stop=True,
            )  # fmt: skip

        result = await self._text_call(build, content, final=False, urgent=urgent, draft=True)
        return result is not None

    async def delete(self, message_id: int) -> None:
        method = DeleteMessage(chat_id=self._target.chat_id, message_id=message_id)
        try:
            await self._call(method, final=True, urgent=False)
        except TelegramBadRequest as exc:
            log.warning("bad request chat=%s error=%s", self._target.chat_id, exc.message)

    async def typing(self) -> None:
        method = SendChatAction(
            chat_id=self._target.chat_id, message_thread_id=self._target.thread_id, action="typing"
        )
        try:
            await try_call(self._bot, method)
        except TelegramAPIError as exc:
            log.info("typing action failed chat=%s error=%s", self._target.chat_id, api_error(exc))

    # -- rich messages -------------------------------------------------------------------------

    async def send_rich(self, markdown: str, markup: InlineKeyboardMarkup | None) -> int | None:
        """Send a rich message (final: insists); None when not delivered, never a duplicate.

        Raises RichRefused for refused content and RichUnavailable when the server lacks it."""
        target = self._target

        def build(skip: bool) -> SendRichMessage:
            return SendRichMessage(
                chat_id=target.chat_id, message_thread_id=target.thread_id,
                rich_message=_rich(markdown, skip), reply_markup=markup,
                reply_parameters=target.reply_parameters(),
            )  # fmt: skip

        message = await self._rich_call(build, markdown)
        return message.message_id if isinstance(message, Message) else None

    async def edit_rich(
        self, message_id: int, markdown: str, markup: InlineKeyboardMarkup | None
    ) -> bool:
        """Turn a message into this rich message (final); raises like `send_rich`."""

        def build(skip: bool) -> EditMessageText:
            return EditMessageText(
                chat_id=self._target.chat_id, message_id=message_id,
                rich_message=_rich(markdown, skip), reply_markup=markup,
            )  # fmt: skip

        return await self._rich_call(build, markdown) is not None

    async def _rich_call(
        self, build: Callable[[bool], TelegramMethod[T]], markdown: str, skip: bool = False
    ) -> T | None:
        try:
            return await self._call(build(skip), final=True, urgent=False)
        except TelegramBadRequest as exc:
            _raise_rich(exc, markdown)
            # Telegram publishes no list of rich rejections (RICH_MESSAGE_*, can't parse,
            # RICH_VALIDATE_*, ...): any other 400 sends this message by the text path.
            if skip or not any(e in exc.message for e in DETECTION_ERRORS):
                raise RichRefused(exc.message) from exc
            return await self._rich_call(build, markdown, skip=True)

    async def draft_rich(self, draft_id: int, markdown: str, *, urgent: bool = False) -> bool:
        """Show or update the rich draft; raises DraftsRefused, RichRefused, RichUnavailable."""
        method = SendRichMessageDraft(
            chat_id=self._target.chat_id, message_thread_id=self._target.thread_id,
            draft_id=draft_id, rich_message=_rich(markdown, False), can_stop=True,
        )  # fmt: skip
        try:
            result = await self._call(method, final=False, urgent=urgent)
        except TelegramBadRequest as exc:
            _raise_rich(exc, markdown)
            if is_content_rejection(exc.message):
                raise RichRefused(exc.message) from exc
            raise DraftsRefused(exc.message) from exc
        return result is not None


def _raise_rich(exc: TelegramBadRequest, markdown: str) -> None:
    if "text is empty" in exc.message.lower() and markdown:
        # Non-empty rich content read as an empty text: the server ignored it.
        raise RichUnavailable(exc.message) from exc


def _rich(markdown: str, skip_detection: bool) -> InputRichMessage:
    return InputRichMessage(markdown=markdown, skip_entity_detection=skip_detection or None)
