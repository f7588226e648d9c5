"""Voice notes, audio files and video notes heard through a transcription endpoint: the limits
checked before anything is downloaded, the file name the endpoint is given, the language hint,
and how a transcript is asked and kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

# What the OpenAI transcription API accepts, by file name extension.
ACCEPTED = frozenset({"flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "wav", "webm"})
BY_MIME = {
    "audio/ogg": "ogg",
    "audio/opus": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/mp4": "m4a",
    "audio/x-m4a": "m4a",
    "audio/m4a": "m4a",
    "audio/aac": "m4a",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/flac": "flac",
    "audio/x-flac": "flac",
    "audio/webm": "webm",
    "video/mp4": "mp4",
}
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the Bot API serves files up to 20 MB to bots
SPOKEN = "[Spoken in a voice message, transcribed:]"

SoundKind = Literal["voice", "audio", "video_note"]
Refusal = Literal["too_long", "too_big", "format"]


class TranscriptionFailed(Exception):
    """The endpoint failed, timed out or heard nothing: the user is told, no model is called."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Transcriber(Protocol):
    """An OpenAI-compatible /audio/transcriptions endpoint."""

    async def transcribe(self, data: bytes, file_name: str, language: str | None) -> str:
        """The text heard in `data` (never empty); TranscriptionFailed otherwise."""


@dataclass(frozen=True, slots=True)
class Sound:
    """One voice note, audio file or video note as Telegram announces it."""

    kind: SoundKind
    file_id: str
    duration: int
    file_size: int | None = None
    mime_type: str | None = None
    file_name: str | None = None


@dataclass(frozen=True, slots=True)
class VoiceLimits:
    """TRANSCRIBE_MAX_SECONDS, the download limit, and TRANSCRIBE_PRICE_PER_MINUTE."""

    max_seconds: int
    max_bytes: int = DOWNLOAD_LIMIT
    price_per_minute: float = 0.0


def upload_name(sound: Sound) -> str | None:
    """A file name whose extension the endpoint accepts (a voice note is `voice.ogg`: some
    servers refuse Telegram's `.oga`); None when the format is not one it takes."""
    if sound.kind == "voice":
        return "voice.ogg"
    if sound.kind == "video_note":
        return "video.mp4"
    name = (sound.file_name or "").rsplit(".", 1)
    if len(name) == 2 and name[1].casefold() in ACCEPTED:
        return f"audio.{name[1].casefold()}"
    by_mime = BY_MIME.get((sound.mime_type or "").casefold())
    return f"audio.{by_mime}" if by_mime else None


def refusal(sound: Sound, limits: VoiceLimits) -> Refusal | None:
    """Why `sound` is not transcribed, checked before any download or call; None when it is."""
    if sound.duration > limits.max_seconds:
        return "too_long"
    if sound.file_size is not None and sound.file_size > limits.max_bytes:
        return "too_big"
    if upload_name(sound) is None:
        return "format"
    return None


def language_hint(language_code: str | None) -> str | None:
    """The ISO-639-1 code the endpoint takes from Telegram's IETF tag ("pt-br" -> "pt")."""
    if not language_code:
        return None
    code = language_code.split("-", 1)[0].casefold()
    return code if len(code) == 2 and code.isalpha() else None


def spoken_text(transcript: str, caption: str = "") -> str:
    """The user's turn as the model gets it and history keeps it: marked as spoken."""
    text = f"{SPOKEN}\n{transcript}"
    return f"{text}\n{caption}" if caption else text


@dataclass(frozen=True, slots=True)
class SpeechReport:
    """What /usage and /stats add about transcription: the counters and the price per minute."""

    usage: SpeechUsage
    price_per_minute: float

    async def minutes(
        self, owner: tuple[Literal["user", "chat"], int] | None, at: datetime
    ) -> tuple[int, float] | None:
        """This month's minutes (rounded up) and their cost; None when nothing was heard."""
        _today, month, _all = await self.usage.speech_seconds(owner, at)
        if not month:
            return None
        return -(-month // 60), round(speech_cost(month, self.price_per_minute), 4)


def speech_cost(seconds: int, price_per_minute: float) -> float:
    """What `seconds` of transcription cost at TRANSCRIBE_PRICE_PER_MINUTE."""
    return seconds / 60 * price_per_minute


class SpeechUsage(Protocol):
    """Where the seconds transcribed are counted (by day, month and all time, like tokens)."""

    async def add_speech(
        self, user_id: int, seconds: int, at: datetime, group_id: int | None = None
    ) -> None: ...

    async def speech_seconds(
        self, owner: tuple[Literal["user", "chat"], int] | None, at: datetime
    ) -> tuple[int, ...]:
        """Seconds transcribed today, this month and in all (owner None: the whole bot's)."""


QUOTE_LIMIT = 3500  # characters of a transcript shown (a message holds 4,096)
EXPANDABLE_FROM = 300  # a longer transcript is shown folded


def shown_transcript(transcript: str) -> tuple[str, bool]:
    """The transcript as the user is shown it (cut to fit one message) and whether the quote
    is folded (expandable) because it is long."""
    shown = transcript if len(transcript) <= QUOTE_LIMIT else transcript[:QUOTE_LIMIT] + "…"
    return shown, len(shown) > EXPANDABLE_FROM
