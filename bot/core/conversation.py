"""ConversationService: one turn of a chat, from the user's text to a stored, counted answer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn

from bot.core.budget import (
    MESSAGE_OVERHEAD,
    PROMPT_OVERHEAD,
    TokenCalibration,
    estimate_tokens,
    fit_history,
    message_tokens,
)
from bot.core.errors import AnswerTimedOut, StorageUnavailable, StreamBroken, UpstreamError
from bot.core.limits import AnswerLimits, watch
from bot.core.models import (
    ChatKey,
    ChatMessage,
    Finished,
    Outcome,
    Question,
    ReasoningDelta,
    Reply,
    TextDelta,
    Usage,
    UsageReport,
    UsageTotals,
)
from bot.core.monitor import UpstreamMonitor
from bot.core.ports import (
    AdminAlerts,
    HistoryStore,
    LLMGateway,
    PromptStore,
    ReplySink,
    UsageStore,
)
from bot.core.quota import Hold, QuotaLimits, reserve
from bot.core.speakers import GROUP_NOTE, group_message
from bot.core.stop import stopped_as
from bot.formatting.reasoning import ThinkSplitter

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


@dataclass(frozen=True, slots=True)
class _Turn:
    chat: ChatKey
    user_id: int
    model: str
    system: ChatMessage
    group: bool
    ratio: float = 1.0  # real prompt tokens per estimated one (TokenCalibration)


@dataclass(slots=True)
class _Accumulator:
    text: str = ""
    reasoning: str = ""
    usage: Usage | None = None
    finish: str | None = None
    content_at: float = 0.0  # when text or reasoning last came (the idle timeout's clock)


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
    ) -> None:
        self._history = history
        self.alerts = alerts  # set by the composition root once the bot exists
        self._calibration = TokenCalibration()
        self._answer_chars = config.limits.answer_chars(config.max_tokens)
        self._entry_chars = config.limits.history_chars(config.token_budget)
        self._prompts = prompts
        self._monitor = monitor
        self._usage = usage
        self._gateway = gateway
        self._config = config
        self._clock = clock
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
    ) -> Reply:
        """Answer `text` in `chat`; the turn is stored and its usage counted, even when stopped.

        In a group the system prompt explains the setting and usage is also counted for the group.
        With `quota`, the turn's worst case is held against it before the upstream call.
        A `Question` sends its `sent` message and keeps its `kept` one in history.
        """
        if isinstance(text, Question):
            question, kept_question = text.sent, text.kept
        else:
            question = kept_question = ChatMessage("user", text, message_tokens("user", text))
        history = await self._history.load(chat)
        system = await self._system_for(chat, group)
        ratio = self._calibration.ratio(model, chat.chat_id)
        kept = fit_history(
            history,
            system_tokens=system.tokens,
            new_message_tokens=question.tokens,
            budget=self._config.token_budget,
            max_tokens=self._config.max_tokens,
            ratio=ratio,
        )
        turn = _Turn(chat, user_id, model, system, group, ratio)
        reply, hold = await self._held(turn, [*kept, question], sink, stop, quota)
        # History first: the user saw this answer, the next turn must know it.
        try:
            if reply.text.strip():
                answer = self._entry(reply.text.strip(), _answer_tokens(reply))
                entries = [kept_question, answer]
                await self._history.append(chat, entries, keep=self._config.history_keep)
        finally:
            await self._count(turn, reply, hold)
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
        if not answers:
            return None
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
        turn = _Turn(chat, user_id, model, system, group, ratio)
        reply, hold = await self._held(turn, [*kept, instruction], sink, stop, quota)
        try:
            if reply.text.strip():
                previous = upto[-1]
                grown = self._entry(
                    previous.content + reply.text, previous.tokens + _answer_tokens(reply)
                )
                await self._history.replace(chat, position, grown)
        finally:
            await self._count(turn, reply, hold)
        return reply

    def _entry(self, content: str, tokens: int) -> ChatMessage:
        """An answer as a history entry, cut to what one entry may hold (recounted if cut)."""
        if len(content) <= self._entry_chars:
            return ChatMessage("assistant", content, tokens)
        cut = content[: self._entry_chars]
        return ChatMessage("assistant", cut, message_tokens("assistant", cut))

    async def is_new(self, chat: ChatKey) -> bool:
        """True when `chat` has no history yet (its next question starts the conversation)."""
        return not await self._history.load(chat)

    async def reset(self, chat: ChatKey) -> None:
        """Forget the chat's history."""
        await self._history.clear(chat)

    async def usage(self, user_id: int) -> UsageTotals:
        """The user's usage today, this month and all time."""
        return await self._usage.totals(user_id, self._clock())

    async def group_usage(self, group_id: int) -> UsageTotals:
        """The group's usage today, this month and all time."""
        return await self._usage.group_totals(group_id, self._clock())

    async def _generate(
        self, turn: _Turn, messages: Sequence[ChatMessage], sink: ReplySink, stop: asyncio.Event
    ) -> Reply:
        payload = [m.as_openai() for m in (turn.system, *messages)]
        model = turn.model
        started = time.monotonic()
        acc = _Accumulator(content_at=started)
        outcome: Outcome = "complete"
        consume = asyncio.create_task(self._consume(model, payload, acc, sink, started))
        stopper = asyncio.create_task(stop.wait())
        watchdog = asyncio.create_task(watch(self._config.limits, started, lambda: acc.content_at))
        try:
            # One turn of the loop lets the request go out first: the placeholder the sink
            # shows is a Bot API call, and in a burst of turns it would hold every request back.
            await asyncio.sleep(0)
            await sink.started()
            await asyncio.wait({consume, stopper, watchdog}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            expired = watchdog.done() and not watchdog.cancelled()
            stopper.cancel()
            watchdog.cancel()
            if not consume.done():
                consume.cancel()
                outcome = "timed_out" if expired else stopped_as(stop)
            try:
                await consume
            except asyncio.CancelledError:
                if outcome == "complete":  # not ended by `stop`: the task itself is cancelled
                    raise
            except StreamBroken:
                if not acc.text:
                    raise
                log.warning("upstream stream broke mid-answer chat=%s", turn.chat.chat_id)
                outcome = "interrupted"
        if outcome == "timed_out":
            log.warning("answer timed out chat=%s why=%s", turn.chat.chat_id, watchdog.result())
            if not acc.text:
                self._failed(AnswerTimedOut(watchdog.result()))
        if outcome == "complete" and acc.finish == "length":
            outcome = "length"
        prompt_estimate = turn.system.tokens + sum(m.tokens for m in messages) + PROMPT_OVERHEAD
        if acc.usage is not None:
            self._calibration.observe(
                model, turn.chat.chat_id, prompt_estimate, acc.usage.prompt_tokens
            )
        estimate = Usage(round(prompt_estimate * turn.ratio), _completion_estimate(acc))
        usage = acc.usage or estimate
        reply = Reply(acc.text, acc.reasoning, outcome, usage, usage_estimated=acc.usage is None)
        try:
            await sink.finish(reply)
        except Exception:
            # Whatever the delivery met, the tokens were spent: count them and keep the turn.
            log.exception("delivering the answer failed chat=%s", turn.chat.chat_id)
        log.info(
            "usage user=%s chat=%s model=%s prompt=%s completion=%s total=%s estimated=%s "
            "outcome=%s latency_ms=%d",
            turn.user_id,
            turn.chat.chat_id,
            model,
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens,
            reply.usage_estimated,
            outcome,
            (time.monotonic() - started) * 1000,
        )
        return reply

    async def _count(self, turn: _Turn, reply: Reply, hold: Hold | None = None) -> None:
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

    def _failed(self, exc: UpstreamError) -> NoReturn:
        """Count the failure, then raise it."""
        if self._monitor is not None:
            self._monitor.error(exc.kind)
        raise exc

    async def _held(
        self,
        turn: _Turn,
        messages: Sequence[ChatMessage],
        sink: ReplySink,
        stop: asyncio.Event,
        quota: QuotaLimits | None,
    ) -> tuple[Reply, Hold | None]:
        """Generate, holding the turn's worst case against `quota` first (settled by _count;
        given back here when the turn fails before an answer)."""
        hold = None
        if quota is not None:
            prompt = turn.system.tokens + sum(m.tokens for m in messages) + PROMPT_OVERHEAD
            amount = prompt + self._config.max_tokens
            hold = await reserve(self._usage, turn.user_id, quota, amount, self._clock())
        try:
            return await self._generate(turn, messages, sink, stop), hold
        except BaseException:
            if hold is not None:
                with contextlib.suppress(StorageUnavailable):  # the hold expires by itself
                    await self._usage.release(hold)
            raise

    async def _consume(
        self,
        model: str,
        payload: list[dict[str, Any]],
        acc: _Accumulator,
        sink: ReplySink,
        started: float,
    ) -> None:
        splitter = ThinkSplitter()
        stream = self._gateway.stream(model, payload, self._config.max_tokens)
        first = True
        try:
            async for event in stream:
                if first and self._monitor is not None:
                    self._monitor.first_token(time.monotonic() - started, model)
                first = False
                if isinstance(event, TextDelta):
                    answer, thought = splitter.feed(event.text)
                    acc.text += answer
                    acc.reasoning += thought
                elif isinstance(event, ReasoningDelta):
                    acc.reasoning += event.text
                elif isinstance(event, UsageReport):
                    acc.usage = event.usage
                    continue
                elif isinstance(event, Finished):
                    acc.finish = event.reason
                    continue
                acc.content_at = time.monotonic()
                if len(acc.text) + len(acc.reasoning) > self._answer_chars:
                    self._cut(acc)
                    break
                sink.update(acc.text, acc.reasoning)
        except UpstreamError as exc:
            if self._monitor is not None:
                self._monitor.error(exc.kind, model)
            alerts = self.alerts if exc.notified_key is not None else None
            if alerts is not None and await alerts.upstream_failed(exc.kind):
                exc.owner_notified()
            raise
        finally:
            answer, thought = splitter.flush()
            # Leading whitespace is kept: a continuation may start with a space or a newline.
            acc.text = (acc.text + answer).rstrip()
            acc.reasoning = (acc.reasoning + thought).strip()
            await stream.aclose()

    def _cut(self, acc: _Accumulator) -> None:
        """The upstream went past max_tokens' worth of characters: end it as "length"."""
        log.warning("answer over its size bound chars=%d", len(acc.text) + len(acc.reasoning))
        acc.reasoning = acc.reasoning[: self._answer_chars]
        acc.text = acc.text[: max(self._answer_chars - len(acc.reasoning), 0)]
        acc.finish = "length"


def _completion_estimate(acc: _Accumulator) -> int:
    return estimate_tokens(acc.text) + estimate_tokens(acc.reasoning)


def _answer_tokens(reply: Reply) -> int:
    if reply.usage_estimated or reply.outcome != "complete" or reply.reasoning:
        return estimate_tokens(reply.text) + MESSAGE_OVERHEAD
    return reply.usage.completion_tokens + MESSAGE_OVERHEAD
