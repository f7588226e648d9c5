"""Telegram messages -> the plain inputs of bot/core: coalescer parts, forward origins, quick
kinds, photo sizes; and downloading a file and reading a document."""

from __future__ import annotations

import base64
import contextlib
import io
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import (
    Document,
    Message,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
)

from bot.core.coalesce import CoalesceKey, Part, PartKind
from bot.core.documents import (
    TELEGRAM_DOWNLOAD_LIMIT,
    DocumentLimits,
    DocumentText,
    Unreadable,
    kind_by_name,
    refuse_before_download,
)
from bot.core.inputs import ForwardOrigin, PhotoSize, QuickKind, forwarded_text
from bot.core.jobs import JobFailed, JobRunner
from bot.telegram.input_kinds import KINDS, InputKind, kind_of

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

log = logging.getLogger(__name__)


class FileDownloadFailed(Exception):
    """Telegram did not give the file (network trouble, an expired link): ask to send it again."""


class FileTooBig(FileDownloadFailed):
    """The download passed its byte limit (Telegram's `file_size` was absent or wrong); `size`
    is what had arrived when it was stopped."""

    def __init__(self, size: int) -> None:
        super().__init__(f"over the size limit after {size} bytes")
        self.size = size


class _CappedBuffer(io.BytesIO):
    """A download's destination that refuses to grow past `limit` bytes: the write that would
    raises FileTooBig, which ends the download (its connection is closed, the rest never read)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self._limit = limit

    def write(self, data: ReadableBuffer, /) -> int:
        size = self.tell() + memoryview(data).nbytes
        if size > self._limit:
            raise FileTooBig(size)
        return super().write(data)


def origin_of(message: Message) -> ForwardOrigin | None:
    """Where a forwarded message came from; None for a message that is not a forward."""
    origin = message.forward_origin
    if isinstance(origin, MessageOriginUser):
        user = origin.sender_user
        return ForwardOrigin("user", user.full_name, user.username)
    if isinstance(origin, MessageOriginHiddenUser):
        return ForwardOrigin("hidden_user", origin.sender_user_name)
    if isinstance(origin, MessageOriginChat):
        chat = origin.sender_chat
        return ForwardOrigin("chat", chat.title or "?", chat.username, origin.author_signature)
    if isinstance(origin, MessageOriginChannel):
        chat = origin.chat
        return ForwardOrigin("channel", chat.title or "?", chat.username, origin.author_signature)
    return None


def coalesce_key(message: Message) -> CoalesceKey:
    """One user in one chat and topic (the same split as the conversation's ChatKey)."""
    user_id = message.from_user.id if message.from_user else message.chat.id
    thread = message.message_thread_id if message.is_topic_message else None
    return CoalesceKey(message.chat.id, thread, user_id)


def part_of(message: Message, kinds: Sequence[InputKind] = KINDS) -> Part[Message]:
    """The coalescer's view of a message: its text (a forward's with its origin line, a media
    message's caption), its kind (an input kind's declared part) and album; the message itself
    is the payload."""
    text = message.text or message.caption or ""
    origin = origin_of(message)
    if origin is not None:
        return Part(message.message_id, "forward", forwarded_text(origin, text), None, message)
    carried = kind_of(message, kinds)
    if carried is not None:
        return Part(message.message_id, carried.part, text, message.media_group_id, message)
    kind: PartKind = "text" if message.text is not None else "other"
    return Part(message.message_id, kind, text, message.media_group_id, message)


def coalescable(message: Message, kinds: Sequence[InputKind] = KINDS) -> bool:
    """Whether a message may be part of a multi-message turn: a person's text, caption, forward
    or one of the input `kinds` the bot reads; not a command (a command runs as sent), not a
    service message."""
    author = message.from_user
    if author is None or author.is_bot or message.is_automatic_forward:
        return False
    if (message.text or "").startswith("/"):
        return False
    return bool(message.text or message.caption or kind_of(message, kinds))


def quick_kind(message: Message) -> QuickKind | None:
    """The kinds answered with one short text and no upstream call (voice: while it is off)."""
    if message.voice is not None or message.audio is not None:
        return "voice"
    if message.video_note is not None:
        return "video_note"
    if message.sticker is not None:
        return "sticker"
    if message.location is not None or message.venue is not None:
        return "location"
    if message.poll is not None:
        return "poll"
    return None


def photo_sizes(message: Message) -> list[PhotoSize]:
    return [PhotoSize(p.file_id, p.width, p.height, p.file_size) for p in message.photo or ()]


async def download(bot: Bot, file_id: str, max_bytes: int = TELEGRAM_DOWNLOAD_LIMIT) -> bytes:
    """The bytes of a file, at most `max_bytes` of them whatever its announced size (over it:
    FileTooBig). TelegramBadRequest ("file is too big") propagates; other failures raise
    FileDownloadFailed."""
    try:
        file = await bot.get_file(file_id)
        if not file.file_path:
            raise FileDownloadFailed("getFile returned no file_path")
        out = _CappedBuffer(max_bytes)
        # aiogram's download_file leaves its stream (and so the connection) open when a write
        # raises, until the generator is garbage collected: Telegram keeps sending meanwhile.
        # Closing the stream here ends the response as soon as the cap is hit.
        url = bot.session.api.file_url(bot.token, file.file_path)
        stream = bot.session.stream_content(url, timeout=60)
        async with contextlib.aclosing(stream) as chunks:
            async for chunk in chunks:
                out.write(chunk)
        return out.getvalue()
    except TelegramBadRequest:
        raise
    except (TelegramAPIError, aiohttp.ClientError, TimeoutError) as exc:
        log.warning("file download failed error=%s", type(exc).__name__)
        raise FileDownloadFailed(type(exc).__name__) from exc


async def read_document(
    bot: Bot, document: Document, limits: DocumentLimits, jobs: JobRunner
) -> DocumentText | Unreadable:
    """The text of a document a user sent, or why there is none (too big, unsupported, too
    costly to read, ...). Checks the announced size before downloading; extraction runs in a
    worker process (JobsBusy propagates: the user is told to try again)."""
    name = document.file_name or "file"
    refused = refuse_before_download(name, document.file_size, limits)
    if refused is not None:
        return refused
    try:
        data = await download(bot, document.file_id, min(limits.max_bytes, TELEGRAM_DOWNLOAD_LIMIT))
    except FileTooBig as exc:
        log.info("document over its size limit while downloading size=%d", exc.size)
        return Unreadable(name, "file", "too_big", max(exc.size, document.file_size or 0))
    except TelegramBadRequest as exc:
        if "file is too big" not in exc.message:
            raise FileDownloadFailed(exc.message) from exc
        return Unreadable(name, "file", "too_big", document.file_size or 0)
    try:
        result = await jobs.run("read_document", name, data, limits, document.mime_type)
    except JobFailed as exc:
        log.warning("document not read size=%d reason=%s", len(data), exc.reason)
        return Unreadable(name, kind_by_name(name), "too_complex", len(data))
    assert isinstance(result, DocumentText | Unreadable)
    return result


def data_url(data: bytes, mime_type: str = "image/jpeg") -> str:
    """An image as a data: URL for an OpenAI image_url content part."""
    return f"data:{mime_type};base64,{base64.b64encode(data).decode('ascii')}"
