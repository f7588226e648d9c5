"""Stand-ins for the Telegram side of handlers: they record what a handler did."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiogram.types import CallbackQuery, Chat, Message, Update, User

from bot.core.models import Reply
from bot.telegram.turn import Turn

GROUP, ALICE, BOB = -100900, 901, 902


def message(
    chat_id: int = GROUP, user_id: int = ALICE, text: str = "hi", sender_chat: Chat | None = None
) -> Message:
    kind = "private" if chat_id > 0 else "supergroup"
    return Message(
        message_id=5,
        date=datetime(2026, 5, 1, tzinfo=UTC),
        chat=Chat(id=chat_id, type=kind),
        from_user=User(id=user_id, is_bot=False, first_name="A", language_code="ru"),
        sender_chat=sender_chat,
        text=text,
    )


def press(data: str, user_id: int = BOB, on: Message | None = None) -> Update:
    query = CallbackQuery(
        id="q1",
        from_user=User(id=user_id, is_bot=False, first_name="B"),
        chat_instance="1",
        message=on or message(),
        data=data,
    )
    return Update(update_id=2, callback_query=query)


@dataclass
class Notes:
    """The Notices a handler uses: what it said, to whom."""

    said: list[tuple[Turn, str]] = field(default_factory=list)
    sinks: list[Sink] = field(default_factory=list)
    generations: list[Any] = field(default_factory=list)

    async def notify(self, turn: Turn, text: str) -> None:
        self.said.append((turn, text))

    async def send(self, turn: Turn, text: str, markup: Any) -> None:
        self.said.append((turn, text))

    def sink(self, turn: Turn, generation: Any) -> Sink:
        self.generations.append(generation)
        self.sinks.append(Sink())
        return self.sinks[-1]

    def answer_sink(
        self, turn: Turn, generation: Any, previous: Any, replaces: Any, footer: str = ""
    ) -> Sink:
        return self.sink(turn, generation)


@dataclass
class Sink:
    texts: list[str] = field(default_factory=list)
    finished: Reply | None = None
    failed: str | None = None
    closed: bool = False

    async def started(self) -> None:
        pass

    def update(self, text: str, reasoning: str) -> None:
        self.texts.append(text)

    def tool_status(self, lines: Sequence[str]) -> None:
        self.texts.append("\n".join(lines))

    async def finish(self, reply: Reply) -> None:
        self.finished = reply

    async def fail(self, text: str) -> None:
        self.failed = text

    async def close(self) -> None:
        self.closed = True


@dataclass
class Query:
    """A button press as the handler sees it."""

    data: str
    from_user: User
    message: Any
    answers: list[tuple[str | None, bool]] = field(default_factory=list)

    async def answer(self, text: str | None = None, show_alert: bool = False) -> None:
        self.answers.append((text, show_alert))


@dataclass
class KeyboardMessage:
    """The bot's message carrying a keyboard."""

    chat: Chat
    markup_removed: bool = False

    async def edit_reply_markup(self, reply_markup: Any = None) -> None:
        self.markup_removed = True
