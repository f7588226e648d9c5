"""What a turn leaves behind: its quota hold before the upstream call, its history entries and
its counted usage after it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime

from bot.core.budget import MESSAGE_OVERHEAD, PROMPT_OVERHEAD, estimate_tokens, message_tokens
from bot.core.errors import StorageUnavailable
from bot.core.generation import Generated, RoundCheck, Turn
from bot.core.models import ChatKey, ChatMessage, Reply
from bot.core.ports import HistoryStore, UsageStore
from bot.core.quota import Hold, QuotaLimits, RoundHolds, reserve
from bot.core.tool_rounds import ToolRounds


class TurnLedger:
    """Holds a turn's worst case against the quota, then stores the turn and counts its usage."""

    def __init__(
        self,
        history: HistoryStore,
        usage: UsageStore,
        clock: Callable[[], datetime],
        max_tokens: int,
        history_keep: int,
        entry_chars: int,
    ) -> None:
        self._history = history
        self._usage = usage
        self._clock = clock
        self._max_tokens = max_tokens
        self._keep = history_keep
        self._entry_chars = entry_chars

    async def hold(
        self,
        turn: Turn,
        messages: Sequence[ChatMessage],
        quota: QuotaLimits | None,
        rounds: ToolRounds | None,
    ) -> tuple[Hold | None, RoundHolds | None, RoundCheck | None]:
        """Hold the turn's worst case against `quota` (settled by `count`, given back by
        `release` when the turn fails before an answer). Further tool rounds are checked against
        the hold (RoundHolds, whose `allows` is the returned check): more is held when needed."""
        if quota is None:
            return None, None, None
        prompt = turn.system.tokens + sum(m.tokens for m in messages) + PROMPT_OVERHEAD
        prompt += rounds.spec_tokens if rounds is not None else 0
        amount = prompt + self._max_tokens
        hold = await reserve(self._usage, turn.user_id, quota, amount, self._clock())
        if rounds is None:
            return hold, None, None
        holds = RoundHolds(self._usage, turn.user_id, quota, hold, self._max_tokens, self._clock)
        return hold, holds, holds.allows

    async def release(self, hold: Hold | None, holds: RoundHolds | None) -> None:
        """Give back the holds of a turn that failed; a storage failure is ignored (holds
        expire by themselves)."""
        with contextlib.suppress(StorageUnavailable):
            if hold is not None:
                await self._usage.release(hold)
            if holds is not None:
                await holds.release()

    async def store(self, chat: ChatKey, question: ChatMessage, done: Generated) -> None:
        """The question, the tool calls and results, and the answer, as the history keeps them."""
        answer: list[ChatMessage] = []
        if done.final_text:
            tokens = (
                estimate_tokens(done.final_text) + MESSAGE_OVERHEAD
                if done.messages
                else answer_tokens(done.reply)
            )
            answer = [self.entry(done.final_text, tokens)]
        if answer or done.messages:
            entries = [question, *done.messages, *answer]
            await self._history.append(chat, entries, keep=self._keep)

    async def grow(self, chat: ChatKey, position: int, previous: ChatMessage, reply: Reply) -> None:
        """Extend the answer at `position` (from the end) by a continuation's text."""
        if reply.text.strip():
            grown = self.entry(
                previous.content + reply.text, previous.tokens + answer_tokens(reply)
            )
            await self._history.replace(chat, position, grown)

    def entry(self, content: str, tokens: int) -> ChatMessage:
        """An answer as a history entry, cut to what one entry may hold (recounted if cut)."""
        if len(content) <= self._entry_chars:
            return ChatMessage("assistant", content, tokens)
        cut = content[: self._entry_chars]
        return ChatMessage("assistant", cut, message_tokens("assistant", cut))

    async def count(
        self, turn: Turn, reply: Reply, hold: Hold | None, holds: RoundHolds | None
    ) -> None:
        """Count the turn's usage (every round), settling its hold; then give back the extra
        holds of its tool rounds."""
        group_id = turn.chat.chat_id if turn.group else None
        await self._usage.add(
            turn.user_id,
            turn.model,
            reply.usage,
            self._clock(),
            group_id=group_id,
            chat_id=turn.chat.chat_id,
            hold=hold,
        )
        if holds is not None:
            await holds.release()


def answer_tokens(reply: Reply) -> int:
    """An answer's tokens as history counts them: the reported completion when it is the text's
    alone, else an estimate."""
    if reply.usage_estimated or reply.outcome != "complete" or reply.reasoning:
        return estimate_tokens(reply.text) + MESSAGE_OVERHEAD
    return reply.usage.completion_tokens + MESSAGE_OVERHEAD
