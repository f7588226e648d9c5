"""Turns that carry inputs besides text: each input kind's reader (bot/telegram/input_kinds.py)
turns its messages into the question (a transcript, a document's text, images), then the turn is
answered like any other. The gate comes first: nothing is downloaded or transcribed for a user it
refuses."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
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
from bot.telegram.input_kinds import DOCUMENT, KINDS, PHOTO, InputKind, QuestionSoFar, Reader
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


def _documents(messages: Sequence[Message]) -> list[Document]:
    return [m.document for m in messages if m.document is not None]


class InputTurns:
    """Answers a turn whose messages carry inputs besides text, through the kinds' readers."""

    def __init__(
        self,
        bot: Bot,
        admission: Admission,
        answering: Answering,
        models: ModelResolver,
        notices: Notices,
        options: InputOptions,
        jobs: JobRunner,
        readers: Mapping[str, Reader] | None = None,
    ) -> None:
        """`jobs` reads documents in worker processes; `readers`: the readers of kinds other
        than documents and photos, by kind name (a kind without one is off)."""
        self._admission = admission
        self._answering = answering
        self._notices = notices
        self._vision = Vision(models, options.vision_models)
        self._readers: dict[str, Reader] = {
            DOCUMENT.name: DocumentReader(bot, notices, options, jobs),
            PHOTO.name: PhotoReader(bot, notices, self._vision),
            **(readers or {}),
        }

    @property
    def kinds(self) -> tuple[InputKind, ...]:
        """The input kinds read (their fields are the chat handlers' filter)."""
        return tuple(kind for kind in KINDS if kind.name in self._readers)

    async def answer(
        self, turn: Turn, messages: Sequence[Message], question: str, own_words: str
    ) -> None:
        """Admit the turn, read its inputs into `question`, and answer it (or tell the user why
        an input was not read: no upstream call then)."""
        if (
            not question.strip()
            and self._photos_only(messages)
            and not await self._vision.sees(turn)
        ):
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

    def _photos_only(self, messages: Sequence[Message]) -> bool:
        others = [k for k in self.kinds if k is not PHOTO]
        return not any(k.carried_by(m) for k in others for m in messages)

    async def _question(
        self, turn: Turn, messages: Sequence[Message], question: str
    ) -> str | Question | None:
        asked = QuestionSoFar(question, question)
        for kind in self.kinds:
            mine = [m for m in messages if kind.carried_by(m)]
            if not mine:
                continue
            read = await self._readers[kind.name].read(turn, mine, asked)
            if read is None or isinstance(read, Question):
                return read
            asked = read
        return asked.sent if asked.sent == asked.kept else text_question(asked.sent, asked.kept)


class Vision:
    """Whether the chat's model sees images (VISION_MODELS)."""

    def __init__(self, models: ModelResolver, vision_models: tuple[str, ...]) -> None:
        self._models = models
        self._vision_models = vision_models

    async def sees(self, turn: Turn) -> bool:
        return sees_images(await self._models.current(turn.chat_id), self._vision_models)


class DocumentReader:
    """Documents: their text with the question (worker processes read them)."""

    def __init__(self, bot: Bot, notices: Notices, options: InputOptions, jobs: JobRunner) -> None:
        self._bot = bot
        self._notices = notices
        self._options = options
        self._jobs = jobs

    async def read(
        self, turn: Turn, messages: Sequence[Message], asked: QuestionSoFar
    ) -> QuestionSoFar | None:
        """The documents' text with the question; None when none could be read (told why)."""
        options = self._options
        readable: list[DocumentText] = []
        for document in _documents(messages):
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
            readable, asked.sent, options.document_tokens, options.document_history_tokens
        )
        for key, values in prepared.notices:  # what was used of a long file, before the answer
            await self._notices.notify(turn, t(key, turn.lang, **values))
        return QuestionSoFar(prepared.content, prepared.history)


class PhotoReader:
    """Photos: sent as images to a model that sees them, else noted as unseen."""

    def __init__(self, bot: Bot, notices: Notices, vision: Vision) -> None:
        self._bot = bot
        self._notices = notices
        self._vision = vision

    async def read(
        self, turn: Turn, messages: Sequence[Message], asked: QuestionSoFar
    ) -> QuestionSoFar | Question:
        photos = [photo_sizes(m) for m in messages if m.photo]
        if await self._vision.sees(turn):
            images = [await self._image(sizes) for sizes in photos]
            kept = photo_turn_text(asked.kept, seen=True)
            blind = photo_turn_text(asked.sent, seen=False)
            return image_question(asked.sent, kept, [i for i in images if i is not None], blind)
        await self._notices.notify(turn, t("photo_not_seen", turn.lang))
        return QuestionSoFar(
            photo_turn_text(asked.sent, seen=False), photo_turn_text(asked.kept, seen=False)
        )

    async def _image(self, sizes: Sequence[PhotoSize]) -> Image | None:
        size = pick_photo(sizes)
        if size is None:
            return None
        try:
            data = await download(self._bot, size.file_id)
        except TelegramBadRequest as exc:
            raise FileDownloadFailed(exc.message) from exc
        return Image(data_url(data), size.width, size.height)
