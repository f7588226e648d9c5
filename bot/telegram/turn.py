"""The Turn: where an answer goes (chat, topic, reply) and who asked, in which language."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import Message

from bot.core.access import Denial
from bot.core.errors import BotError, ContextTooLong
from bot.core.quota import QuotaExhausted
from bot.core.stop import Streaming
from bot.core.turns import Ask, Redo, Regenerate, TurnKind
from bot.core.variants import AnswerVariants
from bot.telegram.texts import Lang, t


@dataclass(frozen=True, slots=True)
class Turn:
    """One exchange in a chat: who asked, and where the answer and notices go."""

    chat_id: int
    private: bool
    thread_id: int | None
    user_id: int
    lang: Lang
    reply_to: int | None = None
    ephemeral_id: int | None = None  # the user's ephemeral message (a command others cannot see)
    callback_query_id: str | None = None  # the button press this turn answers
    actor_id: int | None = None  # a channel or group posting under its own name (sender_chat)
    message_id: int | None = None  # the message that asks (an edit of it is answered again)

    @property
    def actor(self) -> int:
        """Who the gate, flood control and quotas count: the sender chat, else the user."""
        return self.user_id if self.actor_id is None else self.actor_id

    def streaming(
        self, kind: TurnKind, generation_id: str, previous: AnswerVariants | None
    ) -> Streaming:
        """What the turn streams, as a redo sees it: the question it answers (a new or an
        edited one) or the answer it answers again."""
        asked = self.message_id if isinstance(kind, Ask | Redo) else None
        redoing = previous.answer_id if isinstance(kind, Regenerate) and previous else None
        asker = previous.asker if redoing is not None and previous else self.user_id
        return Streaming(generation_id, self.user_id, asker, self.thread_id, asked, redoing)


def turn_of(message: Message, lang: Lang, user_id: int | None = None) -> Turn:
    """The turn a message starts: its chat, topic and author."""
    if user_id is None:
        user_id = message.from_user.id if message.from_user else message.chat.id
    private = message.chat.type == "private"
    return Turn(
        chat_id=message.chat.id,
        private=private,
        thread_id=message.message_thread_id if message.is_topic_message else None,
        user_id=user_id,
        lang=lang,
        # In groups the answer is a reply to the message that called the bot.
        reply_to=None if private or not message.message_id else message.message_id,
        ephemeral_id=None if private else message.ephemeral_message_id,
        actor_id=message.sender_chat.id if message.sender_chat else None,
        message_id=message.message_id or None,
    )


def denial_text(denial: Denial, lang: Lang) -> str:
    return t(denial.text_key, lang, **denial.values)


def error_text(error: BotError, lang: Lang) -> str:
    if isinstance(error, QuotaExhausted):
        return t(error.text_key, lang, **error.values)
    if isinstance(error, ContextTooLong):
        return t(error.text_key, lang, tokens=error.tokens, limit=error.limit)
    return t(error.text_key, lang)
