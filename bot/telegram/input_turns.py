"""Turns that carry files: documents read into the question, photos sent as images (or noted
as unseen), then answered like any turn. The gate comes first: nothing is downloaded for a user
it refuses."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import Document, Message

from bot.core.documents import DocumentLimits, DocumentText, prepare_documents, unreadable_notice
from bot.core.inputs import (
    Image,
    PhotoSize,
    image_question,
    photo_turn_text,
    pick_photo,
    sees_images,
    text_question,
)
from bot.core.jobs import JobRunner, JobsBusy
from bot.core.model_choice import ModelResolver
from bot.core.models import Question
from bot.telegram.admission import Admission
from bot.telegram.answering import Answering
from bot.telegram.inputs import (
    FileDownloadFailed,
    data_url,
    download,
    photo_sizes,
    read_document,
)
from bot.telegram.notices import Notices
from bot.telegram.texts import t
from bot.telegram.turn import Turn

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InputOptions:
    """Document limits and token shares (DOCUMENT_*), and the models that see images."""

    limits: DocumentLimits
    document_tokens: int
    document_history_tokens: int
    vision_models: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Asked:
    """The question so far: what goes upstream and what history keeps."""

    sent: str
    kept: str


def media_of(messages: Sequence[Message]) -> bool:
    """Whether any of the turn's messages carries a document or a photo."""
    return any(m.document is not None or m.photo for m in messages)


def _documents(messages: Sequence[Message]) -> list[Document]:
    return [m.document for m in messages if m.document is not None]


class InputTurns:
    """Answers a turn whose messages carry documents or photos."""

    def __init__(
        self,
        bot: Bot,
        admission: Admission,
        answering: Answering,
        models: ModelResolver,
        notices: Notices,
        options: InputOptions,
        jobs: JobRunner,
    ) -> None:
        """`jobs` reads documents in worker processes."""
        self._bot = bot
        self._jobs = jobs
        self._admission = admission
        self._answering = answering
        self._models = models
        self._notices = notices
        self._options = options

    async def answer(
        self, turn: Turn, messages: Sequence[Message], question: str, own_words: str
    ) -> None:
        """Admit the turn, read its files into `question`, and answer it (or tell the user why
        a file was not read: no upstream call then)."""
        if not question.strip() and not _documents(messages) and not await self._sees(turn):
            # Photos alone that the model cannot see: said like a sticker, once per window.
            await self._admission.unsupported(turn, "photo_no_vision")
            return
        verdict = await self._admission.admit(turn)
        if verdict is None:
            return
        try:
            asked = await self._question(turn, messages, question)
        except FileDownloadFailed as exc:
            log.info("file not downloaded chat=%s error=%s", turn.chat_id, exc)
            await self._notices.notify(turn, t("doc_download_failed", turn.lang))
            return
        except JobsBusy as exc:
            log.info("file not read chat=%s busy=%s", turn.chat_id, exc)
            await self._notices.notify(turn, t("jobs_busy", turn.lang))
            return
        if asked is not None:
            # A file sent without a word names a new topic by its file name.
            names = ", ".join(d.file_name or "" for d in _documents(messages))
            words = own_words or names
            await self._answering.answer_admitted(turn, verdict.limits, asked, words)

    async def _question(
        self, turn: Turn, messages: Sequence[Message], question: str
    ) -> str | Question | None:
        documents = _documents(messages)
        photos = [photo_sizes(m) for m in messages if m.photo]
        asked = _Asked(question, question)
        if documents:
            read = await self._documents(turn, documents, question)
            if read is None:
                return None
            asked = read
        if photos:
            return await self._photos(turn, photos, asked)
        return asked.sent if asked.sent == asked.kept else text_question(asked.sent, asked.kept)

    async def _documents(
        self, turn: Turn, documents: Sequence[Document], question: str
    ) -> _Asked | None:
        """The documents' text with the question; None when none could be read (told why)."""
        options = self._options
        readable: list[DocumentText] = []
        for document in documents:
            result = await read_document(self._bot, document, options.limits, self._jobs)
            if isinstance(result, DocumentText):
                readable.append(result)
                continue
            log.info("file not read chat=%s reason=%s", turn.chat_id, result.reason)
            key, values = unreadable_notice(result, options.limits.max_bytes)
            await self._notices.notify(turn, t(key, turn.lang, **values))
        if not readable:
            return None
        prepared = prepare_documents(
            readable, question, options.document_tokens, options.document_history_tokens
        )
        for key, values in prepared.notices:  # what was used of a long file, before the answer
            await self._notices.notify(turn, t(key, turn.lang, **values))
        return _Asked(prepared.content, prepared.history)

    async def _photos(
        self, turn: Turn, photos: Sequence[list[PhotoSize]], asked: _Asked
    ) -> str | Question:
        if await self._sees(turn):
            images = [await self._image(sizes) for sizes in photos]
            kept = photo_turn_text(asked.kept, seen=True)
            blind = photo_turn_text(asked.sent, seen=False)
            return image_question(asked.sent, kept, [i for i in images if i is not None], blind)
        await self._notices.notify(turn, t("photo_not_seen", turn.lang))
        sent = photo_turn_text(asked.sent, seen=False)
        kept = photo_turn_text(asked.kept, seen=False)
        return sent if sent == kept else text_question(sent, kept)

    async def _sees(self, turn: Turn) -> bool:
        model = await self._models.current(turn.chat_id)
        return sees_images(model, self._options.vision_models)

    async def _image(self, sizes: Sequence[PhotoSize]) -> Image | None:
        size = pick_photo(sizes)
        if size is None:
            return None
        try:
            data = await download(self._bot, size.file_id)
        except TelegramBadRequest as exc:
            raise FileDownloadFailed(exc.message) from exc
        return Image(data_url(data), size.width, size.height)
