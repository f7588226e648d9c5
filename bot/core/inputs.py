"""What a user sends besides text: per-kind answers, the burst limiter, forwards and images."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.core.budget import message_tokens
from bot.core.models import ChatMessage, Question
from bot.core.speakers import speaker_label

# Kinds answered with one short text and no upstream call; the value is the text's key.
QuickKind = Literal["voice", "video_note", "sticker", "location", "poll"]
QUICK_TEXT_KEYS: dict[QuickKind, str] = {
    "voice": "input_voice",
    "video_note": "input_video_note",
    "sticker": "input_sticker",
    "location": "input_location",
    "poll": "input_poll",
}

OriginKind = Literal["user", "hidden_user", "chat", "channel"]


class BurstLimiter:
    """At most one answer per `window` seconds per key (a chat): a burst of stickers gets one."""

    def __init__(self, window: float, clock: Callable[[], float], remember: int = 10_000) -> None:
        self._window = window
        self._clock = clock
        self._remember = remember
        self._last: dict[object, float] = {}

    def allow(self, key: object) -> bool:
        """True (and the window starts) when `key` had no answer in the last `window` seconds."""
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self._window:
            return False
        self._last.pop(key, None)
        self._last[key] = now
        if len(self._last) > self._remember:
            self._prune(now)
        return True

    def _prune(self, now: float) -> None:
        # Oldest first (a window that starts again moves to the end): drop from the front
        # while expired or too many; never a sweep of all (a flood of new chats was quadratic).
        last = self._last
        while last and (
            len(last) > self._remember or now - next(iter(last.values())) >= self._window
        ):
            del last[next(iter(last))]


@dataclass(frozen=True, slots=True)
class ForwardOrigin:
    """Where a forwarded message came from (Bot API MessageOrigin*), as plain data."""

    kind: OriginKind
    name: str
    username: str | None = None
    signature: str | None = None


def forward_note(origin: ForwardOrigin) -> str:
    """The line that tells the model a message was forwarded, and from whom.

    Names are user-controlled: they go through `speaker_label` (one line, no brackets).
    """
    name = speaker_label(origin.name)
    if origin.username:
        name += f" (@{speaker_label(origin.username)})"
    if origin.signature:
        name += f", signed {speaker_label(origin.signature)}"
    where = {
        "user": "the user",
        "hidden_user": "the user (hidden account)",
        "chat": "the chat",
        "channel": "the channel",
    }[origin.kind]
    return f"[Forwarded from {where} {name}]"


def forwarded_text(origin: ForwardOrigin, text: str) -> str:
    """A forwarded message's text with its origin line in front."""
    return f"{forward_note(origin)}\n{text}" if text else forward_note(origin)


@dataclass(frozen=True, slots=True)
class PhotoSize:
    """One size Telegram offers of a photo."""

    file_id: str
    width: int
    height: int
    file_size: int | None = None


def pick_photo(sizes: Sequence[PhotoSize], max_side: int = 2048) -> PhotoSize | None:
    """The largest size whose longer side is at most `max_side` (else the smallest one)."""
    if not sizes:
        return None
    fitting = [s for s in sizes if max(s.width, s.height) <= max_side]
    if fitting:
        return max(fitting, key=lambda s: s.width * s.height)
    return min(sizes, key=lambda s: s.width * s.height)


def sees_images(model: str, vision_models: Collection[str]) -> bool:
    """Whether `model` accepts image inputs (VISION_MODELS lists such models, case-insensitive)."""
    wanted = model.casefold()
    return any(name.casefold() == wanted for name in vision_models)


IMAGE_IN_HISTORY = "[The user sent a photo.]"
IMAGE_NOT_SEEN = "[The user sent a photo; you cannot see it. Answer from the caption alone.]"


def photo_turn_text(caption: str, seen: bool) -> str:
    """The text kept for a photo turn: in history (`seen`) or instead of the image (not `seen`)."""
    note = IMAGE_IN_HISTORY if seen else IMAGE_NOT_SEEN
    return f"{note}\n{caption}" if caption else note


def image_tokens(width: int, height: int, max_pixels: int = 28 * 28 * 1280) -> int:
    """Estimated prompt tokens of one image for Qwen-VL-style models: one token per 28x28 pixels
    (14-pixel patches merged 2x2) after scaling down to `max_pixels`, plus the two vision
    delimiters. Rounds up, like the text estimate, so budgets are not overrun."""
    pixels = max(width, 1) * max(height, 1)
    scale = min(1.0, math.sqrt(max_pixels / pixels))
    columns = math.ceil(width * scale / 28)
    rows = math.ceil(height * scale / 28)
    return max(columns, 1) * max(rows, 1) + 2


@dataclass(frozen=True, slots=True)
class Image:
    """A downloaded image as the model is given it: a data URL, and its size for the budget."""

    data_url: str
    width: int
    height: int


def text_question(sent: str, kept: str) -> Question:
    """A question whose upstream text (`sent`) differs from what history keeps (`kept`)."""
    return Question(
        ChatMessage("user", sent, message_tokens("user", sent)),
        ChatMessage("user", kept, message_tokens("user", kept)),
    )


def image_question(
    text: str, kept: str, images: Sequence[Image], blind: str | None = None
) -> Question:
    """A question with images: `text` and the images go upstream as content parts (counted as
    text plus `image_tokens` each), history keeps `kept` (the images never enter history).
    `blind`: the text a model that cannot see images gets instead (a fallback model)."""
    parts: list[dict[str, object]] = [{"type": "text", "text": text}]
    parts += [{"type": "image_url", "image_url": {"url": i.data_url}} for i in images]
    tokens = message_tokens("user", text) + sum(image_tokens(i.width, i.height) for i in images)
    return Question(
        ChatMessage("user", text, tokens, parts=tuple(parts)),
        ChatMessage("user", kept, message_tokens("user", kept)),
        None if blind is None else ChatMessage("user", blind, message_tokens("user", blind)),
    )
