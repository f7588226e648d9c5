"""ConversationService: one turn of a chat, from the user's text to a stored, counted answer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.core.budget import TokenCalibration, fit_history, message_tokens
from bot.core.generation import Generated, Generator, Turn
from bot.core.limits import AnswerLimits
from bot.core.models import ChatKey, ChatMessage, Question, Reply, UsageTotals
from bot.core.monitor import UpstreamMonitor
from bot.core.ports import (
    AdminAlerts,
    HistoryStore,
    LLMGateway,
    PromptStore,
    ReplySink,
    UsageStore,
)
from bot.core.quota import Hold, QuotaLimits, RoundHolds
from bot.core.speakers import GROUP_NOTE, group_message
from bot.core.tool_rounds import ToolKit, ToolRounds
from bot.core.tools import Lang, keep_tool_pairs
from bot.core.turn_ledger import TurnLedger

log = logging.getLogger(__name__)

CONTINUE_PROMPT = (
    "Continue your previous answer exactly where it stopped. Do not repeat anything "
    "and do not add an introduction."
)


@dataclass(frozen=True, slots=True)
class ConversationConfig:
    system_prompt: str
    token_budget: int
    max_tokens: int
    history_keep: int = 200
    limits: AnswerLimits = field(default_factory=AnswerLimits)


class ConversationService:
    """Loads and trims history, streams the model's answer to a sink, stores the turn and usage."""

    def __init__(
        self,
        history: HistoryStore,
        usage: UsageStore,
        gateway: LLMGateway,
        config: ConversationConfig,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        prompts: PromptStore | None = None,
        monitor: UpstreamMonitor | None = None,
        alerts: AdminAlerts | None = None,
        tools: ToolKit | None = None,
    ) -> None:
        self._history = history
        self.alerts = alerts  # set by the composition root once the bot exists
        self._calibration = TokenCalibration()
        self._ledger = TurnLedger(
            history,
            usage,
            clock,
            config.max_tokens,
            config.history_keep,
            config.limits.history_chars(config.token_budget),
        )
        self._prompts = prompts
        self._usage = usage
        self._config = config
        self._clock = clock
        self.tools = tools  # set by the composition root once the tools are built
        self._generator = Generator(
            gateway,
            config.max_tokens,
            config.limits,
            config.limits.answer_chars(config.max_tokens),
            self._calibration,
            monitor,
            lambda: self.alerts,
        )
        private = config.system_prompt
        group = f"{config.system_prompt}\n\n{GROUP_NOTE}"
        self._systems = (
            ChatMessage("system", private, message_tokens("system", private)),
            ChatMessage("system", group, message_tokens("system", group)),
        )
        self._note_tokens = self._systems[1].tokens - self._systems[0].tokens + 1

    def _system(self, group: bool) -> ChatMessage:
        return self._systems[1 if group else 0]

    async def _system_for(self, chat: ChatKey, group: bool) -> ChatMessage:
        custom = await self._prompts.system_prompt(chat.chat_id) if self._prompts else None
        if custom is None:
            return self._system(group)
        if not group:
            return custom
        # The stored count plus the group note's: nothing is re-counted on a turn.
        text = f"{custom.content}\n\n{GROUP_NOTE}"
        return ChatMessage("system", text, custom.tokens + self._note_tokens)

    async def system_prompt(self, chat_id: int) -> str | None:
        """The chat's own system prompt, or None when it uses the default."""
        custom = await self._prompts.system_prompt(chat_id) if self._prompts else None
        return custom.content if custom else None

    @property
    def default_system_prompt(self) -> str:
        return self._config.system_prompt

    async def set_system_prompt(self, chat_id: int, text: str | None) -> bool:
        """Set the chat's system prompt (None restores the default); its tokens are counted once.

        Returns False when the prompt would take more than a quarter of the token budget.
        """
        if self._prompts is None:
            return False
        if text is None:
            await self._prompts.set_system_prompt(chat_id, None)
            return True
        message = ChatMessage("system", text, message_tokens("system", text))
        if message.tokens > self._config.token_budget // 4:
            return False
        await self._prompts.set_system_prompt(chat_id, message)
        return True

    async def keeps_context(self, chat_id: int) -> bool:
        """Whether the group keeps messages not addressed to the bot as context."""
        return self._prompts is not None and await self._prompts.keeps_context(chat_id)

    async def set_keeps_context(self, chat_id: int, on: bool) -> None:
        if self._prompts is not None:
            await self._prompts.set_keeps_context(chat_id, on)

    async def overhear(self, chat: ChatKey, speaker: str, text: str) -> None:
        """A group message not addressed to the bot joins the history as context (no upstream
        call): the next question sees it, and the token budget trims it like any turn."""
        content = group_message(speaker, text)
        message = ChatMessage("user", content, message_tokens("user", content))
        await self._history.append(chat, [message], keep=self._config.history_keep)

    async def reply(
        self,
        chat: ChatKey,
        user_id: int,
        text: str | Question,
        model: str,
        sink: ReplySink,
        stop: asyncio.Event,
        group: bool = False,
        quota: QuotaLimits | None = None,
        lang: Lang = "en",
    ) -> Reply:
        """Answer `text` in `chat`; the turn is stored and its usage counted, even when stopped.

        In a group the system prompt explains the setting and usage is also counted for the group.
        With `quota`, the turn's worst case is held against it before the upstream call. The
        model may call the chat's tools (status lines in `lang`); the calls and their results
        are stored with the turn, and every round's usage is counted. A `Question` sends its
        `sent` message and keeps its `kept` one in history.
        """
        if isinstance(text, Question):
            question, kept_question = text.sent, text.kept
        else:
            question = kept_question = ChatMessage("user", text, message_tokens("user", text))
        history = await self._history.load(chat)
        system = await self._system_for(chat, group)
        ratio = self._calibration.ratio(model, chat.chat_id)
        rounds = await self.tools.rounds(chat.chat_id, lang) if self.tools else None
        kept = fit_history(
            history,
            system_tokens=system.tokens + (rounds.spec_tokens if rounds else 0),
            new_message_tokens=question.tokens,
            budget=self._config.token_budget,
            max_tokens=self._config.max_tokens,
            ratio=ratio,
        )
        turn = Turn(chat, user_id, model, system, group, ratio)
        messages = [*keep_tool_pairs(kept), question]
        done, hold, holds = await self._held(turn, messages, sink, stop, quota, rounds)
        reply = done.reply
        # History first: the user saw this answer, the next turn must know it.
        try:
            await self._ledger.store(chat, kept_question, done)
        finally:
            await self._ledger.count(turn, reply, hold, holds)
        return reply

    async def continue_reply(
        self,
        chat: ChatKey,
        user_id: int,
        model: str,
        sink: ReplySink,
        stop: asyncio.Event,
        group: bool = False,
        quota: QuotaLimits | None = None,
    ) -> Reply | None:
        """Ask the model to go on from a cut answer; the continuation extends that answer.

        Returns None when the chat holds no answer to continue. Group messages kept as context
        after the answer stay where they are and are not sent: the model goes on with its answer.
        """
        history = await self._history.load(chat)
        answers = [i for i, m in enumerate(history) if m.role == "assistant"]
        if not answers or history[answers[-1]].tool_calls:
            return None  # no answer, or the last one ended in tool calls: nothing to go on with
        position = answers[-1] - len(history)  # from the end: the list may be trimmed in front
        upto = history[: answers[-1] + 1]
        instruction = ChatMessage("user", CONTINUE_PROMPT, message_tokens("user", CONTINUE_PROMPT))
        system = await self._system_for(chat, group)
        ratio = self._calibration.ratio(model, chat.chat_id)
        kept = fit_history(
            upto,
            system_tokens=system.tokens,
            new_message_tokens=instruction.tokens,
            budget=self._config.token_budget,
            max_tokens=self._config.max_tokens,
            ratio=ratio,
        )
        if not kept or kept[-1] != upto[-1]:
            return None
        turn = Turn(chat, user_id, model, system, group, ratio)
        messages = [*keep_tool_pairs(kept), instruction]
        done, hold, holds = await self._held(turn, messages, sink, stop, quota)
        reply = done.reply
        try:
            await self._ledger.grow(chat, position, upto[-1], reply)
        finally:
            await self._ledger.count(turn, reply, hold, holds)
        return reply

    async def is_new(self, chat: ChatKey) -> bool:
        """True when `chat` has no history yet (its next question starts the conversation)."""
        return await self._history.size(chat) == 0

    async def reset(self, chat: ChatKey) -> None:
        """Forget the chat's history."""
        await self._history.clear(chat)

    async def usage(self, user_id: int) -> UsageTotals:
        """The user's usage today, this month and all time."""
        return await self._usage.totals(user_id, self._clock())

    async def group_usage(self, group_id: int) -> UsageTotals:
        """The group's usage today, this month and all time."""
        return await self._usage.group_totals(group_id, self._clock())

    async def _held(
        self,
        turn: Turn,
        messages: Sequence[ChatMessage],
        sink: ReplySink,
        stop: asyncio.Event,
        quota: QuotaLimits | None,
        rounds: ToolRounds | None = None,
    ) -> tuple[Generated, Hold | None, RoundHolds | None]:
        """Generate, holding the turn's worst case against `quota` first (settled by the
        ledger's count; given back here when the turn fails before an answer)."""
        hold, holds, check = await self._ledger.hold(turn, messages, quota, rounds)
        try:
            done = await self._generator.run(turn, messages, sink, stop, rounds, check)
        except BaseException:
            await self._ledger.release(hold, holds)
            raise
        return done, hold, holds
