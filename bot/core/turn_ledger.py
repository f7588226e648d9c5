"""What a turn leaves behind: its quota hold before the upstream call (and more before each
further tool round), its history entries and its counted usage after it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime

from bot.core.budget import MESSAGE_OVERHEAD, estimate_tokens, message_tokens
from bot.core.conversation import ConversationConfig
from bot.core.errors import StorageUnavailable
from bot.core.generation import Generated, Prompt
from bot.core.models import ChatKey, ChatMessage, Reply
from bot.core.ports import HistoryStore, UsageStore
from bot.core.quota import Hold, QuotaExhausted, QuotaLimits, next_day, next_month
from bot.core.tool_rounds import ToolRounds


class TurnLedger:
    """Holds a turn's worst case against the quota, then stores the turn and counts its usage."""

    def __init__(
        self,
        history: HistoryStore,
        usage: UsageStore,
        clock: Callable[[], datetime],
        config: ConversationConfig,
    ) -> None:
        self._history, self._usage, self._clock = history, usage, clock
        self._max_tokens, self._keep = config.max_tokens, config.history_keep
        self._entry_chars = config.limits.history_chars(config.token_budget)

    async def hold(
        self, prompt: Prompt, quota: QuotaLimits | None, rounds: ToolRounds | None
    ) -> RoundHolds | None:
        """Hold the turn's worst case against `quota` (its first hold is settled by `count`;
        `release` gives all back when the turn fails before an answer). Further tool rounds
        are checked against it (`RoundHolds.allows`): more is held when needed."""
        if quota is None:
            return None
        amount = prompt.tokens + (rounds.spec_tokens if rounds else 0) + self._max_tokens
        first = await reserve(self._usage, prompt.user_id, quota, amount, self._clock())
        return RoundHolds(self._usage, prompt.user_id, quota, first, self._max_tokens, self._clock)

    async def release(self, holds: RoundHolds | None) -> None:
        """Give back the holds of a turn that failed; a storage failure is ignored (holds
        expire by themselves)."""
        with contextlib.suppress(StorageUnavailable):
            if holds is not None:
                await self._usage.release(holds.first)
                await holds.release()

    async def store(
        self,
        chat: ChatKey,
        question: ChatMessage,
        done: Generated,
        replaces: int = 0,
        after: Sequence[ChatMessage] = (),
        model: str = "",
    ) -> tuple[ChatMessage, ...]:
        """The question, the tool calls and results, and the answer, as the history keeps them
        (a redo: in place of the newest `replaces` entries, `after` put back behind). Returns
        the entries after the question."""
        answer: list[ChatMessage] = []
        if done.final_text:
            tokens = (
                estimate_tokens(done.final_text) + MESSAGE_OVERHEAD
                if done.messages
                else answer_tokens(done.reply)
            )
            answer = [self.entry(done.final_text, tokens, model)]
        kept = (*done.messages, *answer)
        if kept:
            entries = [question, *kept, *after]
            await self._history.append(chat, entries, keep=self._keep, drop=replaces)
        return kept

    async def grow(self, chat: ChatKey, position: int, previous: ChatMessage, reply: Reply) -> None:
        """Extend the answer at `position` (from the end) by a continuation's text."""
        if reply.text.strip():
            grown = self.entry(
                previous.content + reply.text,
                previous.tokens + answer_tokens(reply),
                previous.model,
            )
            await self._history.replace(chat, position, grown)

    def entry(self, content: str, tokens: int, model: str = "") -> ChatMessage:
        """An answer as a history entry, cut to what one entry may hold (recounted if cut),
        with its model and time."""
        at = int(self._clock().timestamp()) if model else 0
        if len(content) > self._entry_chars:
            content = content[: self._entry_chars]
            tokens = message_tokens("assistant", content)
        return ChatMessage("assistant", content, tokens, model=model, at=at)

    async def count(self, prompt: Prompt, reply: Reply, holds: RoundHolds | None) -> None:
        """Count the turn's usage (every round), settling its hold; then give back the extra
        holds of its tool rounds."""
        group_id = prompt.chat.chat_id if prompt.group else None
        await self._usage.add(
            prompt.user_id,
            prompt.model,
            reply.usage,
            self._clock(),
            group_id=group_id,
            chat_id=prompt.chat.chat_id,
            hold=holds.first if holds is not None else None,
        )
        if holds is not None:
            await holds.release()


def answer_tokens(reply: Reply) -> int:
    """An answer's tokens as history counts them: the reported completion when it is the text's
    alone, else an estimate."""
    if reply.usage_estimated or reply.outcome != "complete" or reply.reasoning:
        return estimate_tokens(reply.text) + MESSAGE_OVERHEAD
    return reply.usage.completion_tokens + MESSAGE_OVERHEAD


async def reserve(
    usage: UsageStore, owner_id: int, limits: QuotaLimits, amount: int, at: datetime
) -> Hold:
    """Hold up to `amount` tokens of the owner's quotas; QuotaExhausted when none are left."""
    hold = await usage.reserve(owner_id, limits, amount, at)
    if hold.exhausted:
        day = hold.exhausted == "day"
        limit = limits.daily if day else limits.monthly
        raise QuotaExhausted(hold.exhausted, limit, next_day(at) if day else next_month(at))
    return hold


class RoundHolds:
    """The quota of a turn with tool rounds: re-checked against the turn's hold before each
    further round. The first hold covers the first round's worst case; when the tokens spent plus
    the next round's worst case exceed what is held, the difference is held too (that hold is
    given back at the end: the turn's real usage is counted once, settling the first hold).
    When the quota cannot hold the tokens spent plus the next round's prompt, the rounds end:
    the model's answer so far is the reply."""

    def __init__(
        self,
        usage: UsageStore,
        owner_id: int,
        limits: QuotaLimits,
        first: Hold,
        max_tokens: int,
        at: Callable[[], datetime],
    ) -> None:
        self._usage = usage
        self._owner = owner_id
        self._limits = limits
        self.first = first
        self._held = first.amount
        self._max_tokens = max_tokens
        self._at = at
        self.extra: list[Hold] = []

    async def allows(self, spent: int, next_prompt: int) -> bool:
        """Whether the next round may go, holding more of the quota when needed."""
        need = spent + next_prompt + self._max_tokens - self._held
        if need <= 0:
            return True
        try:
            hold = await reserve(self._usage, self._owner, self._limits, need, self._at())
        except QuotaExhausted:
            return False
        self.extra.append(hold)
        self._held += hold.amount
        # Like a first round, the next one may go on a partial hold (its answer is what gets
        # cut), but the tokens spent and its prompt must be within the quota.
        return self._held >= spent + next_prompt

    async def release(self) -> None:
        """Give back the extra holds (after the turn's usage is counted)."""
        for hold in self.extra:
            await self._usage.release(hold)
        self.extra.clear()
