"""The voice kind's reader: voice notes, audio files and video notes transcribed by the
configured endpoint, the transcript shown as a quote, then asked like a typed question."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import Message

from bot.core.voice import (
    Sound,
    SpeechUsage,
    Transcriber,
    TranscriptionFailed,
    VoiceLimits,
    language_hint,
    refusal,
    shown_transcript,
    spoken_text,
    upload_name,
)
from bot.formatting.rendered import Entity, Rendered
from bot.formatting.utf16 import utf16_len
from bot.telegram.input_kinds import QuestionSoFar
from bot.telegram.inputs import FileDownloadFailed, download
from bot.telegram.notices import Notices
from bot.telegram.texts import t
from bot.telegram.turn import Turn

log = logging.getLogger(__name__)


def sound_of(message: Message) -> Sound | None:
    """The voice note, audio file or video note a message carries."""
    if message.voice is not None:
        v = message.voice
        return Sound("voice", v.file_id, v.duration, v.file_size, v.mime_type)
    if message.audio is not None:
        a = message.audio
        return Sound("audio", a.file_id, a.duration, a.file_size, a.mime_type, a.file_name)
    if message.video_note is not None:
        n = message.video_note
        return Sound("video_note", n.file_id, n.duration, n.file_size, "video/mp4")
    return None


class VoiceReader:
    """Transcribes a turn's sounds (after the gate let the turn in); a refused, failed or empty
    transcription is told in words and nothing is asked."""

    def __init__(
        self,
        bot: Bot,
        notices: Notices,
        transcriber: Transcriber,
        limits: VoiceLimits,
        usage: SpeechUsage,
        clock: Callable[[], datetime],
    ) -> None:
        self._bot = bot
        self._notices = notices
        self._transcriber = transcriber
        self._limits = limits
        self._usage = usage
        self._clock = clock

    async def read(
        self, turn: Turn, messages: Sequence[Message], asked: QuestionSoFar
    ) -> QuestionSoFar | None:
        """The transcripts, marked as spoken, before the turn's own words."""
        heard: list[str] = []
        for message in messages:
            sound = sound_of(message)
            if sound is None:
                continue
            text = await self._hear(turn, message, sound)
            if text is None:
                return None
            heard.append(text)
        transcript = "\n".join(heard)
        return QuestionSoFar(
            spoken_text(transcript, asked.sent), spoken_text(transcript, asked.kept)
        )

    async def _hear(self, turn: Turn, message: Message, sound: Sound) -> str | None:
        refused = refusal(sound, self._limits)
        if refused is not None:
            log.info("voice refused chat=%s reason=%s", turn.chat_id, refused)
            values = {"seconds": self._limits.max_seconds, "mb": self._limits.max_bytes >> 20}
            await self._notices.notify(turn, t(f"voice_{refused}", turn.lang, **values))
            return None
        try:
            data = await download(self._bot, sound.file_id)
        except TelegramBadRequest as exc:
            raise FileDownloadFailed(exc.message) from exc
        name = upload_name(sound) or "voice.ogg"
        author = message.from_user
        language = language_hint(author.language_code if author else None)
        try:
            text = await self._transcriber.transcribe(data, name, language)
        except TranscriptionFailed as exc:
            log.info("voice not transcribed chat=%s reason=%s", turn.chat_id, exc.reason)
            await self._notices.notify(turn, t("voice_failed", turn.lang))
            return None
        group = None if turn.private else turn.chat_id
        await self._usage.add_speech(turn.actor, sound.duration, self._clock(), group)
        await self._show(turn, text)
        return text

    async def _show(self, turn: Turn, transcript: str) -> None:
        shown, folded = shown_transcript(transcript)
        head = t("voice_transcript", turn.lang) + "\n"
        kind = "expandable_blockquote" if folded else "blockquote"
        quote = Entity(kind, utf16_len(head), utf16_len(shown))
        await self._notices.show(turn, Rendered(head + shown, (quote,)))
