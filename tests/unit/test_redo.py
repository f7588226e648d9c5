"""Edit to redo in the core: the Redo turn drops its turns, the questions log finds the edit."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.models import ChatKey
from bot.core.redo import Asked, Edit, Questions
from bot.core.stop import StopSignal
from bot.core.turns import Redo, TurnRequest
from tests.fakes import MemoryHistory, MemoryUsage, RecordingSink, ScriptedGateway, ask, make_turns

CHAT = ChatKey(5)


class MemoryQuestions:
    def __init__(self) -> None:
        self.saved: dict[ChatKey, list[Asked]] = {}

    async def questions(self, chat: ChatKey) -> list[Asked]:
        return list(self.saved.get(chat, []))

    async def save_questions(self, chat: ChatKey, asked: Sequence[Asked]) -> None:
        self.saved[chat] = list(asked)

    async def add_question(self, chat: ChatKey, asked: Asked, keep: int) -> None:
        kept = self.saved.get(chat, [])
        ids = [a.message_id for a in kept]
        if asked.message_id in ids:  # answered again: it and the later ones go
            kept = kept[: len(ids) - 1 - ids[::-1].index(asked.message_id)]
        self.saved[chat] = [*kept, asked][-keep:]


async def test_redo_answers_in_place_of_the_dropped_turns() -> None:
    gateway = ScriptedGateway("A1.", "A2.", "A3.", "New A1.")
    history = MemoryHistory()
    turns = make_turns(gateway, history, MemoryUsage())
    for question in ("q1", "q2", "q3"):
        await ask(turns, CHAT, 7, question, "m", RecordingSink(), StopSignal())
    request = TurnRequest(CHAT, 7, "en", Redo("q1 edited", 3))
    done = await turns.answer(request, "m", RecordingSink(), StopSignal())
    assert done is not None
    assert [m["content"] for m in gateway.calls[-1][1]][1:] == ["q1 edited"]
    assert [m.content for m in await history.load(CHAT)] == ["q1 edited", "New A1."]
    too_many = TurnRequest(CHAT, 7, "en", Redo("x", 2))
    assert await turns.answer(too_many, "m", RecordingSink(), StopSignal()) is None


async def test_the_questions_log_finds_edits_worth_redoing() -> None:
    questions = Questions(MemoryQuestions())
    for message_id, text in ((10, "one"), (11, "two"), (12, "three")):
        await questions.asked(CHAT, message_id, text, 7)
    assert await questions.edited(CHAT, 99, "never answered", 7) is None
    assert await questions.edited(CHAT, 12, "three", 7) is None  # formatting only
    assert await questions.edited(CHAT, 12, "THREE", 8) is None  # not the asker
    assert await questions.edited(CHAT, 12, "THREE", 7) == Edit("THREE", 0)
    assert await questions.edited(CHAT, 10, "ONE", 7) == Edit("ONE", 2)
    assert await questions.pending(CHAT, 10, 8) is None
    assert await questions.pending(CHAT, 10, 7) == Edit("ONE", 2)
    await questions.asked(CHAT, 10, "ONE", 7)  # redone: the later turns are gone
    assert await questions.pending(CHAT, 10, 7) is None
    assert await questions.edited(CHAT, 11, "TWO", 7) is None
