"""Responder: runs one answer in a chat, wiring the conversation service to a Telegram sink."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.adapters.redis_signals import draft_name
from bot.core.access import Admission, Denial, Gate
from bot.core.bounded import Recent
from bot.core.conversation import ConversationService
from bot.core.errors import BotError, ContextTooLong, UpstreamError
from bot.core.model_choice import ModelChoice, ModelResolver
from bot.core.models import ChatKey, Reply
from bot.core.ports import ReplySink
from bot.core.quota import QuotaExhausted
from bot.core.render import Rendered
from bot.core.titles import topic_title
from bot.metrics import Metrics
from bot.telegram.delivery import ApiCounters, Delivery, Target
from bot.telegram.generations import Generation, Generations
from bot.telegram.pacing import Pacers
from bot.telegram.rich import RichSwitch
from bot.telegram.sink import SinkOptions, TelegramSink
from bot.telegram.texts import Lang, t

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ResponderOptions:
    use_drafts: bool
    show_reasoning: bool
    message_limit: int
    rich_messages: bool = False
    rich_drafts: bool = False


@dataclass(frozen=True, slots=True)
class Turn:
    chat_id: int
    private: bool
    thread_id: int | None
    user_id: int
    lang: Lang
    reply_to: int | None = None
    ephemeral_id: int | None = None  # the user's ephemeral message (a command others cannot see)
    callback_query_id: str | None = None  # the button press this turn answers
    actor_id: int | None = None  # a channel or group posting under its own name (sender_chat)

    @property
    def actor(self) -> int:
        """Who the gate, flood control and quotas count: the sender chat, else the user."""
        return self.user_id if self.actor_id is None else self.actor_id


class ReplicaSignals(Protocol):
    """Stop and Continue buttons between replicas (absent with one process)."""

    async def request(self, chat_id: int, generation_id: str, user_id: int) -> bool: ...

    async def watch(
        self, chat_id: int, generation_id: str, user_id: int, stop: asyncio.Event, draft_id: int
    ) -> None: ...

    async def set_continuable(self, chat_id: int, generation_id: str | None) -> None: ...

    async def take_continuable(self, chat_id: int, generation_id: str) -> bool: ...


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
    )


def denial_text(denial: Denial, lang: Lang) -> str:
    return t(denial.text_key, lang, **denial.values)


def error_text(error: BotError, lang: Lang) -> str:
    if isinstance(error, QuotaExhausted):
        return t(error.text_key, lang, **error.values)
    if isinstance(error, ContextTooLong):
        return t(error.text_key, lang, tokens=error.tokens, limit=error.limit)
    return t(error.text_key, lang)


class Responder:
    """Answers a user in Telegram: streams, stores, and turns failures into clear words."""

    def __init__(
        self,
        bot: Bot,
        service: ConversationService,
        generations: Generations,
        pacers: Pacers,
        counters: ApiCounters,
        options: ResponderOptions,
        models: ModelResolver,
        gate: Gate,
        metrics: Metrics | None = None,
        replicas: ReplicaSignals | None = None,
    ) -> None:
        self._metrics = metrics
        self._replicas = replicas
        self._bot = bot
        self._models = models
        self._gate = gate
        self._service = service
        self._generations = generations
        self._pacers = pacers
        self._counters = counters
        self._options = options
        self._no_drafts: Recent[int, None] = Recent()
        self.rich = RichSwitch(messages=options.rich_messages, drafts=options.rich_drafts)

    async def admit(self, turn: Turn, unsupported: str = "") -> Admission | None:
        """The gate before a turn (access, flood, quota); None when refused. A refused user is
        told why, once per window (the gate decides)."""
        admission = await self._gate.admit(turn.actor, turn.chat_id, turn.private, unsupported)
        denial = admission.denial
        if denial is None:
            return admission
        log.info(
            "turn refused user=%s chat=%s reason=%s told=%s",
            turn.actor, turn.chat_id, denial.text_key, admission.tell,
        )  # fmt: skip
        if admission.tell:
            await self.notify(turn, denial_text(denial, turn.lang))
        return None

    async def unsupported(self, turn: Turn, text_key: str) -> None:
        """Content the bot cannot read: gated like a turn, its refusal told once per window."""
        await self.admit(turn, unsupported=text_key)

    async def overhear(self, turn: Turn, speaker: str, text: str) -> None:
        """A group message not addressed to the bot: kept as context when the group has that on.
        Never answered, so a failure is only logged."""
        try:
            if not await self._service.keeps_context(turn.chat_id):
                return
            if await self._gate.may_be_heard(turn.actor, turn.chat_id):
                await self._service.overhear(ChatKey(turn.chat_id, turn.thread_id), speaker, text)
        except Exception as exc:  # nobody asked anything: no error message in the group
            log.warning("group message not kept chat=%s error=%s", turn.chat_id, type(exc).__name__)

    async def answer(self, turn: Turn, text: str) -> None:
        """Answer `text` as the next turn of the conversation, if the gate lets the user in."""
        admission = await self.admit(turn)
        if admission is None:
            return
        chat = ChatKey(turn.chat_id, turn.thread_id)
        # A private topic is a conversation: the first question names it.
        topic = (
            turn.private
            and turn.thread_id is not None
            and (await self._bot.me()).has_topics_enabled
        )
        name = topic and await self._service.is_new(chat)
        await self._run(
            turn,
            lambda sink, generation: self._models.run(
                turn.chat_id,
                lambda model: self._service.reply(
                    chat,
                    turn.actor,
                    text,
                    model,
                    sink,
                    generation.stop,
                    group=not turn.private,
                    quota=admission.limits,
                ),
                lambda choice: self._tell_fallback(turn, choice),
            ),
        )
        if name and turn.thread_id is not None:
            await self._rename_topic(turn.chat_id, turn.thread_id, topic_title(text))

    async def _rename_topic(self, chat_id: int, thread_id: int, title: str) -> None:
        try:
            await self._bot.edit_forum_topic(chat_id, thread_id, name=title)
        except TelegramAPIError as exc:
            log.info("topic not renamed chat=%s error=%s", chat_id, exc.message)

    async def new_topic(self, turn: Turn) -> bool:
        """Open a fresh private topic for a new conversation; False when Telegram refuses."""
        try:
            topic = await self._bot.create_forum_topic(turn.chat_id, t("new_topic_name", turn.lang))
        except TelegramAPIError as exc:
            log.info("topic not created chat=%s error=%s", turn.chat_id, exc.message)
            return False
        fresh = Turn(turn.chat_id, True, topic.message_thread_id, turn.user_id, turn.lang)
        await self.notify(fresh, t("new_topic_ready", turn.lang))
        return True

    async def _tell_fallback(self, turn: Turn, choice: ModelChoice) -> None:
        await self.notify(
            turn, t("model_fallback", turn.lang, wanted=choice.wanted, model=choice.model)
        )

    async def continue_answer(self, turn: Turn, generation_id: str) -> bool:
        """Continue the chat's answer cut by the length limit; False when there is none."""
        # A refused user is told why and leaves the Continue button to others.
        admission = await self.admit(turn)
        if admission is None:
            return True
        allowed = self._generations.take_continuable(turn.chat_id, generation_id)
        # With replicas the answer may have been cut, or followed, on another one: Redis knows.
        if self._replicas is not None:
            allowed = await self._replicas.take_continuable(turn.chat_id, generation_id)
        if not allowed:
            return False
        chat = ChatKey(turn.chat_id, turn.thread_id)
        reply = await self._run(
            turn,
            lambda sink, generation: self._models.run(
                turn.chat_id,
                lambda model: self._service.continue_reply(
                    chat,
                    turn.actor,
                    model,
                    sink,
                    generation.stop,
                    group=not turn.private,
                    quota=admission.limits,
                ),
                lambda choice: self._tell_fallback(turn, choice),
            ),
        )
        return reply is not None

    def stop(self, generation_id: str, user_id: int) -> bool:
        generation = self._generations.get(generation_id)
        if generation is None or generation.user_id != user_id:
            return False
        generation.stop.set()
        return True

    async def stop_anywhere(self, chat_id: int, generation_id: str, user_id: int) -> bool:
        """Stop here, or ask the other replicas when the answer is not generated here."""
        if self.stop(generation_id, user_id):
            return True
        if self._replicas is None:
            return False
        return await self._replicas.request(chat_id, generation_id, user_id)

    async def stop_draft(self, chat_id: int, draft_id: int) -> bool:
        """Telegram's native stop of a draft; passed to the replica generating it if not here."""
        generation = self._generations.by_draft(chat_id, draft_id)
        if generation is not None:
            generation.stop.set()
            return True
        if self._replicas is None:
            return False
        # Drafts exist only in private chats, where the chat id is the user's id.
        return await self._replicas.request(chat_id, draft_name(draft_id), chat_id)

    async def _run(
        self,
        turn: Turn,
        call: Callable[[ReplySink, Generation], Awaitable[Reply | None]],
    ) -> Reply | None:
        generation = self._generations.start(turn.chat_id, turn.user_id)
        sink = self._sink(turn, generation)
        timed = _TimedSink(sink)
        reply: Reply | None = None
        watcher = (
            asyncio.create_task(
                self._replicas.watch(
                    turn.chat_id, generation.id, turn.user_id, generation.stop, generation.draft_id
                )
            )
            if self._replicas is not None
            else None
        )
        try:
            reply = await call(timed, generation)
            if reply is not None:
                self._observe(reply, timed)
        except BotError as exc:
            log.warning(
                "turn failed chat=%s error=%s detail=%s", turn.chat_id, type(exc).__name__, exc
            )
            if self._metrics is not None:
                if isinstance(exc, UpstreamError):
                    self._metrics.upstream_errors.inc(exc.kind)
                else:
                    self._metrics.turn_errors.inc(type(exc).__name__)
            await sink.fail(error_text(exc, turn.lang))
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            await sink.close()
            continuable = reply is not None and reply.outcome == "length" and bool(reply.text)
            self._generations.end(generation, continuable=continuable)
            if self._replicas is not None:
                await self._replicas.set_continuable(
                    turn.chat_id, generation.id if continuable else None
                )
        return reply

    def _observe(self, reply: Reply, timed: _TimedSink) -> None:
        if self._metrics is None:
            return
        metrics = self._metrics
        metrics.replies.inc(reply.outcome)
        metrics.tokens.inc("prompt", reply.usage.prompt_tokens)
        metrics.tokens.inc("completion", reply.usage.completion_tokens)
        if timed.first_token is not None:
            metrics.first_token.observe(timed.first_token - timed.begun)
        metrics.answer.observe(time.monotonic() - timed.begun)

    def _sink(self, turn: Turn, generation: Generation) -> TelegramSink:
        drafts = self._options.use_drafts and turn.private and turn.chat_id not in self._no_drafts
        delivery = self._delivery(turn)
        lang = turn.lang
        options = SinkOptions(
            mode="draft" if drafts else "edit",
            limit=self._options.message_limit,
            show_reasoning=self._options.show_reasoning,
            draft_id=generation.draft_id,
            stop_markup=_button(t("stop_button", lang), f"stop:{generation.id}"),
            continue_markup=_button(t("continue_button", lang), f"cont:{generation.id}"),
            notes={
                "stopped": t("stopped_note", lang),
                "interrupted": t("interrupted_note", lang),
                "length": t("length_note", lang),
                "empty": t("empty_answer", lang),
                "thinking": t("thinking_status", lang),
                "reasoning": t("reasoning_summary", lang),
            },
            rich=self.rich,
        )
        return TelegramSink(delivery, options, lambda: self._no_drafts.add(turn.chat_id))

    async def notify(self, turn: Turn, text: str) -> None:
        """Send a short notice in the chat (paced like every other message).

        In a group, a notice answering an ephemeral command or a button press is ephemeral (only
        that user sees it); if Telegram refuses, it becomes an ordinary message."""
        if not turn.private and (turn.ephemeral_id or turn.callback_query_id):
            target = Target(
                turn.chat_id, turn.thread_id, ephemeral_to=turn.user_id,
                ephemeral_reply=turn.ephemeral_id, ephemeral_callback=turn.callback_query_id,
            )  # fmt: skip
            if (
                await self._delivery(turn, target).send(Rendered(text), None, final=True)
                is not None
            ):
                return
        await self._delivery(turn).send(Rendered(text), None, final=True)

    async def send(self, turn: Turn, text: str, markup: InlineKeyboardMarkup | None) -> None:
        """Send a message with an inline keyboard (paced like every other message)."""
        await self._delivery(turn).send(Rendered(text), markup, final=True)

    def _delivery(self, turn: Turn, target: Target | None = None) -> Delivery:
        return Delivery(
            self._bot,
            target or Target(turn.chat_id, turn.thread_id, turn.reply_to),
            self._pacers.get(turn.chat_id, "private" if turn.private else "group"),
            self._pacers.get(turn.chat_id, "draft"),
            self._pacers.bot,
            self._counters,
        )


class _TimedSink:
    """Passes a reply through to the Telegram sink, noting when the first token came."""

    def __init__(self, sink: ReplySink) -> None:
        self._sink = sink
        self.begun = time.monotonic()
        self.first_token: float | None = None

    async def started(self) -> None:
        self.begun = time.monotonic()
        await self._sink.started()

    def update(self, text: str, reasoning: str) -> None:
        if self.first_token is None:
            self.first_token = time.monotonic()
        self._sink.update(text, reasoning)

    async def finish(self, reply: Reply) -> None:
        await self._sink.finish(reply)


def _button(text: str, data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=text, callback_data=data)]]
    )
