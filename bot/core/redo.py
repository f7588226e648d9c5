"""Edit to redo: the chat's answered questions by message, so that an edited question is answered
again in place of its turn (and of the turns after it, when the user agrees to drop them)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from bot.core.models import ChatKey
from bot.core.ports import QuestionStore

MAX_ASKED = 50  # questions remembered per chat: older edits are not redone


def question_digest(content: str) -> str:
    """What a question said (formatting aside): an edit with the same digest changes nothing."""
    return hashlib.sha256(content.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Asked:
    """An answered question: its message, what it said, who asked; `edited`: its new words
    waiting for the asker's "Redo from here"."""

    message_id: int
    digest: str
    asker: int
    edited: str = ""

    @classmethod
    def of(cls, message_id: int, content: str, asker: int) -> Asked:
        """Message `message_id`, saying `content`, asked by `asker`, answered."""
        return cls(message_id, question_digest(content), asker)


@dataclass(frozen=True, slots=True)
class Edit:
    """An edited question to answer again: its new words and how many turns came after it."""

    content: str
    later: int


class Questions:
    """The chat's answered questions, newest last, and the edits of them."""

    def __init__(self, store: QuestionStore) -> None:
        self._store = store

    async def asked(self, chat: ChatKey, message_id: int, content: str, asker: int) -> None:
        """`message_id` was answered (a question already known is answered again: its
        later turns are gone). A turn records it with its answer (Variants.record)."""
        await self._store.add_question(chat, Asked.of(message_id, content, asker), MAX_ASKED)

    async def edited(
        self, chat: ChatKey, message_id: int, content: str, editor: int
    ) -> Edit | None:
        """The edit of `message_id` to answer again; None when the bot never answered it, the
        editor did not ask it, or only its formatting changed. An edit with later turns waits
        for the asker's press (`pending`)."""
        asked = await self._store.questions(chat)
        found = _find(asked, message_id)
        if found is None:
            return None
        index, question = found
        if question.asker != editor or question.digest == question_digest(content):
            return None
        later = len(asked) - 1 - index
        if later:
            asked[index] = replace(question, edited=content)
            await self._store.save_questions(chat, asked)
        return Edit(content, later)

    async def pending(self, chat: ChatKey, message_id: int, presser: int) -> Edit | None:
        """The edit waiting for the asker's "Redo from here"; None for anyone else or none."""
        asked = await self._store.questions(chat)
        found = _find(asked, message_id)
        if found is None or not found[1].edited or found[1].asker != presser:
            return None
        return Edit(found[1].edited, len(asked) - 1 - found[0])


def _find(asked: list[Asked], message_id: int) -> tuple[int, Asked] | None:
    for index in range(len(asked) - 1, -1, -1):
        if asked[index].message_id == message_id:
            return index, asked[index]
    return None
