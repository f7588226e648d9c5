"""The turn use case: one request in, the answer streamed to a sink, stored and counted.

A request says who asks where, in which language, and the kind of turn: a new question (`Ask`),
going on from an answer cut by the length limit (`Continue`), or a question asked from inline
mode (`Inline`: no history, nothing stored). Every kind goes through one
sequence: load the history -> the system prompt -> fit the history to the budget -> hold the
quota -> stream the rounds (bot.core.generation) -> store -> count (bot.core.turn_ledger). A kind
only says which history it sends, the message it adds and how its answer is kept (`_plan`).

The model policies live here too: when the chat's model is gone, the fallback model answers,
once; a model that cannot see images gets a photo's text form.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core.budget import fit_history, message_tokens
from bot.core.conversation import ConversationService
from bot.core.errors import BotError, ModelUnavailable
from bot.core.generation import Generated, Generator, Prompt
from bot.core.inputs import sees_images
from bot.core.model_choice import ModelChoice, ModelResolver
from bot.core.models import ChatKey, ChatMessage, ChatSettings, Lang, Question, Reply
from bot.core.modes import NO_MODE, TurnMode
from bot.core.ports import HistoryStore, ReplySink, UsageStore
from bot.core.quota import QuotaLimits
from bot.core.titles import topic_title
from bot.core.tool_rounds import ToolKit
from bot.core.tools import keep_tool_pairs
from bot.core.turn_ledger import TurnLedger
from bot.core.variants import last_turn

log = logging.getLogger(__name__)

CONTINUE_PROMPT = (
    "Continue your previous answer exactly where it stopped. Do not repeat anything "
    "and do not add an introduction."
)
INLINE_NOTE = "(Answer briefly: the answer must fit one chat message.)"
_CONTINUE = ChatMessage("user", CONTINUE_PROMPT, message_tokens("user", CONTINUE_PROMPT))


@dataclass(frozen=True, slots=True)
class Ask:
    """A new question; a `Question` sends its `sent` message and keeps its `kept` one."""

    question: str | Question


@dataclass(frozen=True, slots=True)
class Continue:
    """Go on from the chat's last answer; the continuation extends that answer."""


@dataclass(frozen=True, slots=True)
class Inline:
    """A question asked from inline mode: no chat's history is sent or changed; the usage is
    counted for the user. The model is asked to keep the answer to one message."""

    question: str


@dataclass(frozen=True, slots=True)
class Regenerate:
    """Answer the chat's last question again: the same history before it, nothing added; the
    new answer takes the old one's place (the old one is not sent)."""


@dataclass(frozen=True, slots=True)
class Redo:
    """An edited question: answered in place of the chat's last `turns` turns (its own and
    the ones after it), which the history drops."""

    question: str
    turns: int = 1


TurnKind = Ask | Continue | Inline | Regenerate | Redo


@dataclass(frozen=True, slots=True)
class TurnRequest:
    """Who asks (`user_id`: whom quotas and usage count) where, in which language, what."""

    chat: ChatKey
    user_id: int
    lang: Lang
    kind: TurnKind
    group: bool = False  # the system prompt explains the setting; usage counts for the group
    quota: QuotaLimits | None = None  # the turn's worst case is held against it first
    topic_words: str | None = None  # name the private topic this question opens after them
    mode: TurnMode = NO_MODE  # what the chat's mode sets: prompt, model, temperature, tools
    settings: ChatSettings | None = None  # the chat's, read with its mode (None: read here)


@dataclass(frozen=True, slots=True)
class Answered:
    """How a turn ended: its reply (None: it failed, or there was nothing to continue), the
    model that answered, the error told to the user, and the title of the topic it opened."""

    reply: Reply | None = None
    model: str = ""
    error: BotError | None = None
    title: str | None = None
    entries: tuple[ChatMessage, ...] = ()  # what history keeps of the answer (after its question)


@dataclass(frozen=True, slots=True)
class _Plan:
    """What a kind of turn sends and keeps: the history it may send (the budget trims its
    front), the message after it, the question to store (None: the answer at `position` from
    the end grows, and must be sent). A redo first drops the newest `replaces` entries, and
    puts back `after` (group context that came after the old answer) behind the new one."""

    history: list[ChatMessage]
    sent: ChatMessage
    kept: ChatMessage | None
    position: int = 0
    replaces: int = 0
    after: tuple[ChatMessage, ...] = ()
    store: bool = True  # False: nothing is stored (the usage is still counted)


# Tells the user the chat's model was replaced by another (ModelChoice.notice).
Told = Callable[[ModelChoice], Awaitable[None]]


class Turns:
    """Runs turns: one sequence for every kind, the model policies, the turn's state in one
    place (its Progress, folded by the Generator)."""

    def __init__(
        self,
        history: HistoryStore,
        usage: UsageStore,
        chats: ConversationService,
        models: ModelResolver,
        generator: Generator,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        tools: ToolKit | None = None,
        vision_models: tuple[str, ...] | None = None,  # None: every model is taken to see
    ) -> None:
        self._history, self._chats, self._models = history, chats, models
        self._config, self._calibration = generator.config, generator.calibration
        self._tools, self._vision = tools, vision_models
        self._ledger = TurnLedger(history, usage, clock, generator.config)
        self._generator = generator

    async def run(
        self, request: TurnRequest, sink: ReplySink, stop: asyncio.Event, told: Told
    ) -> Answered:
        """Answer `request` with the chat's model (the fallback model, once, when it is gone).
        The answer is stored and its usage counted, even when stopped; a failure is returned
        as the error to tell the user (the sink is not told)."""
        title = None
        if request.topic_words is not None and await self._history.size(request.chat) == 0:
            title = topic_title(request.topic_words)  # its first question names the topic
        try:
            done, model = await self._with_fallback(request, sink, stop, told)
        except BotError as exc:
            log.warning(
                "turn failed chat=%s error=%s detail=%s",
                request.chat.chat_id, type(exc).__name__, exc,
            )  # fmt: skip
            return Answered(error=exc, title=title)
        if done is None:
            return Answered(None, model, title=title)
        return Answered(done[0], model, title=title, entries=done[1])

    async def _with_fallback(
        self, request: TurnRequest, sink: ReplySink, stop: asyncio.Event, told: Told
    ) -> tuple[tuple[Reply, tuple[ChatMessage, ...]] | None, str]:
        wanted = request.mode.model
        if wanted is not None:
            try:
                return await self.answer(request, wanted, sink, stop), wanted
            except ModelUnavailable:
                log.warning("mode model unavailable model=%s", wanted)
        choice = await self._models.resolve(request.chat.chat_id, request.settings)
        if choice.notice:
            await told(choice)
        try:
            return await self.answer(request, choice.model, sink, stop), choice.model
        except ModelUnavailable:
            self._models.mark_unavailable(choice.model)
            retry = await self._models.resolve(request.chat.chat_id, request.settings)
            if retry.model == choice.model:
                raise
            if retry.notice:
                await told(retry)
            return await self.answer(request, retry.model, sink, stop), retry.model

    async def answer(
        self, request: TurnRequest, model: str, sink: ReplySink, stop: asyncio.Event
    ) -> tuple[Reply, tuple[ChatMessage, ...]] | None:
        """Answer `request` with `model`: the turn is stored and its usage counted, even when
        stopped; the reply comes with the history entries it left after its question. None
        when there is nothing to continue or to answer again. The model may call the chat's tools on
        a question (those of the chat's mode; status lines in the request's language); the calls
        and results are stored with the turn, every round's usage counted."""
        chat = request.chat
        history = await self._history.load(chat)
        plan = self._plan(request.kind, history, model)
        if plan is None:
            return None
        mode = request.mode
        system = await self._chats.system_for(chat, request.group, mode.prompt, request.settings)
        ratio = self._calibration.ratio(model, chat.chat_id)
        tools = self._tools if plan.kept is not None and plan.store else None
        rounds = await tools.rounds(chat.chat_id, request.lang, mode.tools) if tools else None
        kept = fit_history(
            plan.history,
            system_tokens=system.tokens + (rounds.spec_tokens if rounds else 0),
            new_message_tokens=plan.sent.tokens,
            budget=self._config.token_budget,
            max_tokens=self._config.max_tokens,
            ratio=ratio,
        )
        if plan.kept is None and (not kept or kept[-1] != plan.history[-1]):
            return None  # the answer to continue does not fit any more
        messages = [*keep_tool_pairs(kept), plan.sent]
        prompt = Prompt(
            chat, request.user_id, request.group, model, system, messages, ratio, mode.temperature
        )
        ledger = self._ledger
        holds = await ledger.hold(prompt, request.quota, rounds)
        check = holds.allows if holds is not None and rounds is not None else None
        try:
            done = await self._generator.run(prompt, sink, stop, rounds, check)
        except BaseException:
            await ledger.release(holds)
            raise
        try:  # history first: the user saw this answer, the next turn must know it
            return done.reply, await self._keep(plan, prompt, done)
        finally:
            await ledger.count(prompt, done.reply, holds)

    async def _keep(self, plan: _Plan, prompt: Prompt, done: Generated) -> tuple[ChatMessage, ...]:
        """Store the answer as `plan` says; the history entries it left after its question."""
        if not plan.store:
            return ()  # an inline answer: no chat's history
        if plan.kept is None:
            await self._ledger.grow(prompt.chat, plan.position, plan.history[-1], done.reply)
            return ()
        return await self._ledger.store(
            prompt.chat, plan.kept, done, plan.replaces, plan.after, prompt.model
        )

    def _plan(self, kind: TurnKind, history: list[ChatMessage], model: str) -> _Plan | None:
        if isinstance(kind, Regenerate):
            turn = last_turn(history)
            if turn is None:
                return None
            asked = history[turn.question]
            replaces = len(history) - turn.question
            after = tuple(history[turn.end :])
            return _Plan(history[: turn.question], asked, asked, 0, replaces, after)
        if isinstance(kind, Redo):
            cut = len(history)
            for _ in range(kind.turns):
                turn = last_turn(history[:cut])
                if turn is None:
                    return None  # the history no longer holds those turns
                cut = turn.question
            message = ChatMessage("user", kind.question, message_tokens("user", kind.question))
            return _Plan(history[:cut], message, message, 0, len(history) - cut)
        if isinstance(kind, Continue):
            answers = [i for i, m in enumerate(history) if m.role == "assistant"]
            if not answers or history[answers[-1]].tool_calls:
                return None  # no answer, or the last one ended in tool calls: nothing to go on
            # Group messages kept as context after the answer stay, unsent: the model goes on.
            # The position counts from the end: the list may be trimmed in front.
            upto = history[: answers[-1] + 1]
            return _Plan(upto, _CONTINUE, None, answers[-1] - len(history))
        if isinstance(kind, Inline):
            sent = f"{kind.question}\n\n{INLINE_NOTE}"
            message = ChatMessage("user", sent, message_tokens("user", sent))
            return _Plan([], message, message, store=False)
        question = kind.question
        if isinstance(question, str):
            message = ChatMessage("user", question, message_tokens("user", question))
            return _Plan(history, message, message)
        if question.blind is not None and not self._sees(model):
            return _Plan(history, question.blind, question.kept)  # a model without vision
        return _Plan(history, question.sent, question.kept)

    def _sees(self, model: str) -> bool:
        return self._vision is None or sees_images(model, self._vision)
