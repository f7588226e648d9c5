"""An answer's variants: the last turn of a chat answered again (Regenerate), up to
MAX_VARIANTS kept, the one shown being the one the history keeps for the next turn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.core.models import ChatKey, ChatMessage
from bot.core.ports import HistoryStore, VariantStore
from bot.core.redo import MAX_ASKED, Asked

MAX_VARIANTS = 5


@dataclass(frozen=True, slots=True)
class Variant:
    """One answer to the last question: its history entries (tool calls and results, then the
    answer) and the model that gave it."""

    entries: tuple[ChatMessage, ...]
    model: str


@dataclass(frozen=True, slots=True)
class AnswerVariants:
    """The chat's last answer and its variants. `answer_id` names it in buttons (its first
    generation's id), `asker` is who asked, `shown` the messages showing it; `serial` counts
    its regenerations (a press naming an older one was already done)."""

    answer_id: str
    asker: int
    shown: tuple[int, ...]
    items: tuple[Variant, ...]
    current: int = 0
    serial: int = 0

    def added(self, variant: Variant, shown: Sequence[int]) -> AnswerVariants:
        """With `variant` shown, the oldest dropped beyond MAX_VARIANTS."""
        items = (*self.items, variant)[-MAX_VARIANTS:]
        return AnswerVariants(
            self.answer_id, self.asker, tuple(shown), items, len(items) - 1, self.serial + 1
        )

    def flipped(self, index: int) -> AnswerVariants:
        return replace(self, current=index)


def recorded(
    previous: AnswerVariants | None,
    answer_id: str,
    asker: int,
    shown: Sequence[int],
    variant: Variant,
) -> AnswerVariants:
    """The chat's last answer after a turn: new (`previous` None), or a new variant of it."""
    if previous is None:
        return AnswerVariants(answer_id, asker, tuple(shown), (variant,))
    return previous.added(variant, shown)


@dataclass(frozen=True, slots=True)
class LastTurn:
    """Where the chat's last answered turn is in a history: its question at `question`, its
    answer's entries up to `end` (exclusive); entries after it are group context."""

    question: int
    end: int


def last_turn(history: Sequence[ChatMessage]) -> LastTurn | None:
    """The last question with its answer (tool rounds included); None when there is none."""
    answers = [i for i, m in enumerate(history) if m.role == "assistant" and not m.tool_calls]
    if not answers:
        return None
    index = answers[-1] - 1
    while index >= 0 and (history[index].role == "tool" or history[index].tool_calls):
        index -= 1
    if index < 0 or history[index].role != "user":
        return None
    return LastTurn(index, answers[-1] + 1)


class Variants:
    """Reads and flips the chat's answer variants; the history follows the one shown."""

    def __init__(self, history: HistoryStore, store: VariantStore, keep: int) -> None:
        self._history, self._store, self._keep = history, store, keep

    async def of(self, chat: ChatKey) -> AnswerVariants | None:
        """The chat's last answer with its variants, if recorded."""
        return await self._store.load(chat)

    async def record(
        self, chat: ChatKey, variants: AnswerVariants, asked: Asked | None = None
    ) -> None:
        """Keep `variants` as the chat's last answer, and `asked` (the question it answered, for
        edit to redo) among the chat's questions: one write."""
        if asked is None:
            await self._store.save(chat, variants)
        else:
            await self._store.save_answered(chat, variants, asked, MAX_ASKED)

    async def flip(self, chat: ChatKey, answer_id: str, index: int) -> AnswerVariants | None:
        """Show variant `index` of the answer `answer_id`: the history keeps it instead of the
        one shown. None (nothing changed) when the answer is not the chat's last any more."""
        variants = await self._store.load(chat)
        if variants is None or variants.answer_id != answer_id:
            return None
        if not 0 <= index < len(variants.items) or index == variants.current:
            return None
        history = await self._history.load(chat)
        turn = last_turn(history)
        shown = variants.items[variants.current].entries
        if turn is None or tuple(history[turn.question + 1 : turn.end]) != shown:
            return None  # the history moved on (a new turn, a reset): the variants are stale
        after = history[turn.end :]
        chosen = variants.items[index].entries
        dropped = len(shown) + len(after)
        await self._history.append(chat, [*chosen, *after], keep=self._keep, drop=dropped)
        flipped = variants.flipped(index)
        await self._store.save(chat, flipped)
        return flipped
