"""One answer, start to end: admit, resolve the model, reply (once more with the fallback model
when the chosen one is gone), then record how it ended."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.core.conversation import ConversationService
from bot.core.errors import BotError, ModelUnavailable, UpstreamError
from bot.core.inputs import sees_images
from bot.core.model_choice import ModelChoice, ModelResolver
from bot.core.models import ChatKey, Question, Reply
from bot.core.ports import ReplicaSignals, ReplySink
from bot.core.quota import QuotaLimits
from bot.core.titles import topic_title
from bot.metrics import Metrics
from bot.telegram.admission import Admission
from bot.telegram.bot_api import api_error
from bot.telegram.notices import Notices
from bot.telegram.runtime.running import Generation, Running
from bot.telegram.texts import t
from bot.telegram.turn import Turn, error_text

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Ask:
    """What one answer is asked: `text` (None: continue the last answer), held against `quota`."""

    text: str | Question | None
    quota: QuotaLimits | None


class Answering:
    """Answers a user in Telegram: streams, stores, and turns failures into clear words."""

    def __init__(
        self,
        bot: Bot,
        service: ConversationService,
        models: ModelResolver,
        admission: Admission,
        notices: Notices,
        running: Running,
        signals: ReplicaSignals,
        metrics: Metrics,
        vision_models: tuple[str, ...] | None = None,
    ) -> None:
        self._bot = bot
        self._service = service
        self._models = models
        self._admission = admission
        self._notices = notices
        self._running = running
        self._signals = signals
        self._metrics = metrics
        self._vision_models = vision_models  # None: every model is taken to see images

    async def answer(self, turn: Turn, text: str, own_words: str | None = None) -> None:
        """Answer `text` as the next turn of the conversation, if the gate lets the user in.

        `own_words`: what the user wrote, without the quoted context (it names a new topic)."""
        verdict = await self._admission.admit(turn)
        if verdict is None:
            return
        await self.answer_admitted(turn, verdict.limits, text, own_words)

    async def answer_admitted(
        self,
        turn: Turn,
        quota: QuotaLimits | None,
        text: str | Question,
        own_words: str | None = None,
    ) -> None:
        """Answer a turn the gate has let in (with the `quota` it holds against): a file or a
        photo is admitted before it is downloaded."""
        chat = ChatKey(turn.chat_id, turn.thread_id)
        # A private topic is a conversation: the first question names it.
        topic = turn.private and turn.thread_id is not None and await self._has_topics()
        name = topic and await self._service.is_new(chat)
        await self._run(turn, text, quota)
        if name and turn.thread_id is not None:
            words = own_words if own_words is not None else text
            title = topic_title(words.kept.content if isinstance(words, Question) else words)
            await self._rename_topic(turn.chat_id, turn.thread_id, title)

    async def take_continuable(self, turn: Turn, generation_id: str) -> bool:
        """True once if `generation_id` is the chat's latest answer cut by the length limit
        (the replica signals know it, whichever replica cut it)."""
        return await self._signals.take_continuable(turn.chat_id, generation_id)

    async def continue_answer(self, turn: Turn, quota: QuotaLimits | None) -> bool:
        """Continue the chat's answer cut by the length limit; False when history holds none."""
        return await self._run(turn, None, quota) is not None or self._running.closing

    async def new_topic(self, turn: Turn) -> bool:
        """Open a fresh private topic for a new conversation; False when Telegram refuses."""
        try:
            topic = await self._bot.create_forum_topic(turn.chat_id, t("new_topic_name", turn.lang))
        except TelegramAPIError as exc:
            log.info("topic not created chat=%s error=%s", turn.chat_id, api_error(exc))
            return False
        fresh = Turn(turn.chat_id, True, topic.message_thread_id, turn.user_id, turn.lang)
        await self._notices.notify(fresh, t("new_topic_ready", turn.lang))
        return True

    async def _run(
        self, turn: Turn, text: str | Question | None, quota: QuotaLimits | None
    ) -> Reply | None:
        """Stream one reply (`text` None: a continuation) and record how it ended."""
        if self._running.closing:  # queued behind an answer the shutdown interrupted
            await self._notices.notify(turn, t("restarting", turn.lang))
            return None
        generation = self._running.start(turn.chat_id, turn.user_id)
        sink = self._notices.sink(turn, generation)
        watcher = asyncio.create_task(
            self._signals.watch(
                turn.chat_id, generation.id, turn.user_id, generation.stop, generation.draft_id
            )
        )
        begun = time.monotonic()
        reply: Reply | None = None
        try:
            reply = await self._reply_with_fallback(turn, _Ask(text, quota), sink, generation)
        except BotError as exc:
            log.warning(
                "turn failed chat=%s error=%s detail=%s", turn.chat_id, type(exc).__name__, exc
            )
            if not isinstance(exc, UpstreamError):  # upstream errors: counted by the monitor
                self._metrics.turn_errors.inc(type(exc).__name__)
            await sink.fail(error_text(exc, turn.lang))
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await sink.close()
            await self._ended(turn, generation, reply, begun)
        return reply

    async def _reply_with_fallback(
        self, turn: Turn, ask: _Ask, sink: ReplySink, generation: Generation
    ) -> Reply | None:
        """The chat's model answers; when it is gone, the fallback model answers, once."""
        choice = await self._models.resolve(turn.chat_id)
        await self._tell_replaced(turn, choice)
        try:
            return await self._reply(turn, ask, choice.model, sink, generation)
        except ModelUnavailable:
            self._models.mark_unavailable(choice.model)
            retry = await self._models.resolve(turn.chat_id)
            if retry.model == choice.model:
                raise
            await self._tell_replaced(turn, retry)
            return await self._reply(turn, ask, retry.model, sink, generation)

    async def _reply(
        self, turn: Turn, ask: _Ask, model: str, sink: ReplySink, generation: Generation
    ) -> Reply | None:
        chat = ChatKey(turn.chat_id, turn.thread_id)
        group = not turn.private
        generation.model = model
        text = ask.text
        if isinstance(text, Question) and text.blind is not None and not self._sees(model):
            text = Question(text.blind, text.kept)  # a replacement model without vision
        if text is None:
            return await self._service.continue_reply(
                chat, turn.actor, model, sink, generation.stop, group=group, quota=ask.quota
            )
        return await self._service.reply(
            chat, turn.actor, text, model, sink, generation.stop, group=group, quota=ask.quota,
            lang="ru" if turn.lang == "ru" else "en",
        )  # fmt: skip

    def _sees(self, model: str) -> bool:
        return self._vision_models is None or sees_images(model, self._vision_models)

    async def _tell_replaced(self, turn: Turn, choice: ModelChoice) -> None:
        if choice.notice:
            await self._notices.notify(
                turn, t("model_fallback", turn.lang, wanted=choice.wanted, model=choice.model)
            )

    async def _ended(
        self, turn: Turn, generation: Generation, reply: Reply | None, begun: float
    ) -> None:
        self._running.end(generation)
        continuable = reply is not None and reply.outcome == "length" and bool(reply.text)
        await self._signals.set_continuable(turn.chat_id, generation.id if continuable else None)
        if reply is None:
            return
        metrics, model = self._metrics, generation.model
        metrics.replies.inc(reply.outcome, model=model)
        metrics.tokens.inc("prompt", reply.usage.prompt_tokens, model=model)
        metrics.tokens.inc("completion", reply.usage.completion_tokens, model=model)
        metrics.answer.observe(time.monotonic() - begun, model=model)

    async def _has_topics(self) -> bool:
        return bool((await self._bot.me()).has_topics_enabled)

    async def _rename_topic(self, chat_id: int, thread_id: int, title: str) -> None:
        try:
            await self._bot.edit_forum_topic(chat_id, thread_id, name=title)
        except TelegramAPIError as exc:
            log.info("topic not renamed chat=%s error=%s", chat_id, api_error(exc))
