"""Regenerate and the answer's variants with in-memory ports: the same prompt goes again, the
new answer takes the old one's place, and the variant shown is the one history keeps."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.models import ChatKey, ChatMessage
from bot.core.stop import StopSignal
from bot.core.turns import Regenerate, TurnRequest
from bot.core.variants import AnswerVariants, Variant, Variants, last_turn
from tests.fakes import MemoryHistory, MemoryUsage, RecordingSink, ScriptedGateway, ask, make_turns

CHAT = ChatKey(42)


class MemoryVariants:
    def __init__(self) -> None:
        self.saved: dict[ChatKey, AnswerVariants] = {}

    async def load(self, chat: ChatKey) -> AnswerVariants | None:
        return self.saved.get(chat)

    async def save(self, chat: ChatKey, variants: AnswerVariants) -> None:
        self.saved[chat] = variants


def _contents(history: Sequence[ChatMessage]) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in history]


async def test_regenerate_sends_the_same_prompt_and_replaces_the_answer() -> None:
    gateway = ScriptedGateway("First.", "Second answer.", "Third one here.")
    history, usage = MemoryHistory(), MemoryUsage()
    turns = make_turns(gateway, history, usage)
    await ask(turns, CHAT, 7, "hi", "m", RecordingSink(), StopSignal())
    await ask(turns, CHAT, 7, "again", "m", RecordingSink(), StopSignal())
    request = TurnRequest(CHAT, 7, "en", Regenerate())
    done = await turns.answer(request, "m", RecordingSink(), StopSignal())
    assert done is not None and done[0].text == "Third one here."
    assert gateway.calls[2][1] == gateway.calls[1][1]  # the same messages, nothing added
    assert _contents(await history.load(CHAT)) == [
        ("user", "hi"),
        ("assistant", "First."),
        ("user", "again"),
        ("assistant", "Third one here."),
    ]
    assert [entry.content for entry in done[1]] == ["Third one here."]
    assert len(usage.added) == 3  # every variant is counted


async def test_regenerate_keeps_group_context_that_came_after_the_answer() -> None:
    gateway = ScriptedGateway("Old.", "New.")
    history, usage = MemoryHistory(), MemoryUsage()
    turns = make_turns(gateway, history, usage)
    await ask(turns, CHAT, 7, "q", "m", RecordingSink(), StopSignal())
    context = ChatMessage("user", "[Ann]: by the way", 8)
    await history.append(CHAT, [context], keep=100)
    await turns.answer(TurnRequest(CHAT, 7, "en", Regenerate()), "m", RecordingSink(), StopSignal())
    assert gateway.calls[1][1][-1] == {"role": "user", "content": "q"}
    assert _contents(await history.load(CHAT)) == [
        ("user", "q"),
        ("assistant", "New."),
        ("user", "[Ann]: by the way"),
    ]


async def test_nothing_to_regenerate_in_an_empty_chat() -> None:
    turns = make_turns(ScriptedGateway(), MemoryHistory(), MemoryUsage())
    request = TurnRequest(CHAT, 7, "en", Regenerate())
    assert await turns.answer(request, "m", RecordingSink(), StopSignal()) is None


async def test_flipping_puts_the_chosen_variant_in_history() -> None:
    history, store = MemoryHistory(), MemoryVariants()
    question = ChatMessage("user", "q", 5)
    old, new = ChatMessage("assistant", "old", 5), ChatMessage("assistant", "new", 5)
    await history.append(CHAT, [question, new], keep=100)
    variants = Variants(history, store, keep=100)
    record = AnswerVariants("a1", 7, (10,), (Variant((old,), "m"), Variant((new,), "m")), 1)
    await variants.record(CHAT, record)
    assert await variants.flip(CHAT, "stale", 0) is None
    flipped = await variants.flip(CHAT, "a1", 0)
    assert flipped is not None and flipped.current == 0
    assert _contents(await history.load(CHAT)) == [("user", "q"), ("assistant", "old")]
    await history.append(CHAT, [ChatMessage("user", "next", 5)], keep=100)
    await history.append(CHAT, [ChatMessage("assistant", "reply", 5)], keep=100)
    assert await variants.flip(CHAT, "a1", 1) is None  # the history moved on
    assert _contents(await history.load(CHAT))[-1] == ("assistant", "reply")


def test_only_five_variants_are_kept() -> None:
    record = AnswerVariants("a", 7, (), (Variant((), "m0"),))
    for index in range(1, 7):
        record = record.added(Variant((), f"m{index}"), (index,))
    assert [item.model for item in record.items] == ["m2", "m3", "m4", "m5", "m6"]
    assert record.current == 4 and record.answer_id == "a" and record.serial == 6
    assert record.shown == (6,)


def test_last_turn_skips_tool_rounds() -> None:
    from bot.core.models import ToolCall

    call = ChatMessage("assistant", "", 3, tool_calls=(ToolCall("c", "f", "{}"),))
    history = [
        ChatMessage("user", "q", 1),
        call,
        ChatMessage("tool", "r", 1, tool_call_id="c"),
        ChatMessage("assistant", "a", 1),
    ]
    turn = last_turn(history)
    assert turn is not None and (turn.question, turn.end) == (0, 4)
    assert last_turn(history[:3]) is None
