"""Input kinds, declared once: the message fields that carry a kind (the handlers' filter and
the coalescer's test), how its part coalesces, the catalog texts it uses, and its reader.

Adding a kind is a declaration here, its reader (a class with `read`), and its catalog texts.
The readers run in the order of `KINDS` over a turn's messages, each turning what its messages
carry into the question so far (voice first: a transcript is the question the files answer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aiogram.types import Message

from bot.core.coalesce import PartKind
from bot.core.models import Question
from bot.telegram.turn import Turn


@dataclass(frozen=True, slots=True)
class QuestionSoFar:
    """The question so far: what goes upstream and what history keeps."""

    sent: str
    kept: str


class Reader(Protocol):
    """Reads one kind's messages of a turn into the question; None: nothing to answer (the
    user was told why); a Question: final (images), no later reader runs."""

    async def read(
        self, turn: Turn, messages: Sequence[Message], asked: QuestionSoFar
    ) -> QuestionSoFar | Question | None: ...


@dataclass(frozen=True, slots=True)
class InputKind:
    """One kind of input besides text. `fields`: the Message fields that carry it; `part`: how
    its coalescer part is grouped; `texts`: the catalog keys its reader uses (`off`: the one said
    when the kind is off and the message is answered without the model)."""

    name: str
    fields: tuple[str, ...]
    part: PartKind = "media"
    texts: tuple[str, ...] = ()
    off: str | None = None

    def carried_by(self, message: Message) -> bool:
        return any(getattr(message, field, None) for field in self.fields)


VOICE = InputKind(
    "voice",
    ("voice", "audio", "video_note"),
    texts=("voice_transcript", "voice_too_long", "voice_too_big", "voice_format", "voice_failed"),
    off="input_voice",
)
DOCUMENT = InputKind("document", ("document",), texts=("doc_download_failed", "jobs_busy"))
PHOTO = InputKind("photo", ("photo",), texts=("photo_not_seen", "photo_no_vision"))
KINDS: tuple[InputKind, ...] = (VOICE, DOCUMENT, PHOTO)


def carried_fields(kinds: Sequence[InputKind]) -> tuple[str, ...]:
    """The Message fields the chat handlers take besides text (their filter)."""
    return tuple(field for kind in kinds for field in kind.fields)


def kind_of(message: Message, kinds: Sequence[InputKind] = KINDS) -> InputKind | None:
    """The first of `kinds` the message carries."""
    return next((kind for kind in kinds if kind.carried_by(message)), None)


def media_of(messages: Sequence[Message], kinds: Sequence[InputKind] = KINDS) -> bool:
    """Whether any of the turn's messages carries an input kind (a file, a photo, a voice note)."""
    return any(kind_of(m, kinds) is not None for m in messages)
