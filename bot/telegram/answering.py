"""One answer in Telegram, start to end: admit, build the turn's request, run it (bot.core.turns)
with this chat's sink, then record how it ended."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from functools import partial

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.core.errors import UpstreamError
from bot.core.model_choice import ModelChoice
from bot.core.models import ChatKey, Question
from bot.core.monitor import NO_MODEL, Monitor
from bot.core.ports import ReplicaSignals
from bot.core.quota import QuotaLimits
from bot.core.turns import Answered, Ask, Continue, TurnKind, TurnRequest, Turns
from bot.telegram.admission import Admission
from bot.telegram.bot_api import api_error
from bot.telegram.notices import Notices
from bot.telegram.runtime.running import Generation, Running
from bot.telegram.texts import t
from bot.telegram.turn import Turn, error_text

log = logging.getLogger(__name__)


class Answering:
    """Answers a user in Telegram: streams, stores, and turns failures into clear words."""

    def __init__(
        self,
        bot: Bot,
        turns: Turns,
        admission: Admission,
        notices: Notices,
        running: Running,
        signals: ReplicaSignals,
        monitor: Monitor,
    ) -> None:
        self._bot = bot
        self._turns = turns
        self._admission = admission
        self._notices = notices
        self._running = running
        self._signals = signals
        self._monitor = monitor

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
        words = None
        # A private topic is a conversation: the first question names it.
        if turn.private and turn.thread_id is not None and await self._has_topics():
            asked = text.kept.content if isinstance(text, Question) else text
            words = own_words if own_words is not None else asked
        answered = await self._run(turn, Ask(text), quota, words)
        if answered is not None and answered.title and turn.thread_id is not None:
            await self._rename_topic(turn.chat_id, turn.thread_id, answered.title)

    async def take_continuable(self, turn: Turn, generation_id: str) -> bool:
        """True once if `generation_id` is the chat's latest answer cut by the length limit
        (the replica signals know it, whichever replica cut it)."""
        return await self._signals.take_continuable(turn.chat_id, generation_id)

    async def continue_answer(self, turn: Turn, quota: QuotaLimits | None) -> bool:
        """Continue the chat's answer cut by the length limit; False when history holds none."""
        answered = await self._run(turn, Continue(), quota)
        return (answered is not None and answered.reply is not None) or self._running.closing

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
        self, turn: Turn, kind: TurnKind, quota: QuotaLimits | None, words: str | None = None
    ) -> Answered | None:
        """Run one turn to this chat's sink and record how it ended; None when shutting down."""
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
        chat = ChatKey(turn.chat_id, turn.thread_id)
        request = TurnRequest(chat, turn.actor, turn.lang, kind, not turn.private, quota, words)
        answered = Answered()
        try:
            answered = await self._turns.run(
                request, sink, generation.stop, partial(self._told, turn)
            )
            if answered.error is not None:
                if not isinstance(answered.error, UpstreamError):  # counted by the monitor
                    self._monitor.count("turn_errors", type(answered.error).__name__)
                await sink.fail(error_text(answered.error, turn.lang))
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await sink.close()
            await self._ended(turn, generation, answered, begun)
        return answered

    async def _told(self, turn: Turn, choice: ModelChoice) -> None:
        text = t("model_fallback", turn.lang, wanted=choice.wanted, model=choice.model)
        await self._notices.notify(turn, text)

    async def _ended(
        self, turn: Turn, generation: Generation, answered: Answered, begun: float
    ) -> None:
        self._running.end(generation)
        reply = answered.reply
        continuable = reply is not None and reply.outcome == "length" and bool(reply.text)
        await self._signals.set_continuable(turn.chat_id, generation.id if continuable else None)
        if reply is None:
            return
        monitor, model = self._monitor, answered.model or NO_MODEL
        monitor.count("replies", reply.outcome, model)
        monitor.count("tokens", "prompt", model, amount=reply.usage.prompt_tokens)
        monitor.count("tokens", "completion", model, amount=reply.usage.completion_tokens)
        monitor.observe("upstream_answer_seconds", time.monotonic() - begun, model)

    async def _has_topics(self) -> bool:
        return bool((await self._bot.me()).has_topics_enabled)

    async def _rename_topic(self, chat_id: int, thread_id: int, title: str) -> None:
        try:
            await self._bot.edit_forum_topic(chat_id, thread_id, name=title)
        except TelegramAPIError as exc:
            log.info("topic not renamed chat=%s error=%s", chat_id, api_error(exc))
