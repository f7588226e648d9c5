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
from bot.core.models import ChatKey, ChatSettings, Question
from bot.core.modes import NO_MODE, Mode, Modes
from bot.core.monitor import NO_MODEL, Monitor
from bot.core.ports import ChatSettingsStore, ReplicaSignals
from bot.core.quota import QuotaLimits
from bot.core.redo import Asked, Edit, Questions
from bot.core.stop import Streaming
from bot.core.turns import (
    Answered,
    Ask,
    Continue,
    Redo,
    Regenerate,
    TurnKind,
    TurnRequest,
    Turns,
)
from bot.core.variants import AnswerVariants, Variant, Variants, recorded
from bot.telegram.admission import Admission
from bot.telegram.bot_api import api_error
from bot.telegram.notices import Notices
from bot.telegram.runtime.running import Generation, Running
from bot.telegram.texts import DEFAULT_LANG, t
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
        variants: Variants | None = None,  # None: answers are not recorded for Regenerate
        questions: Questions | None = None,  # None: edited questions are not answered again
        modes: Modes | None = None,  # None: every chat answers in the default mode
        settings: ChatSettingsStore | None = None,  # None: each setting is read where needed
    ) -> None:
        self._bot, self._turns, self._admission, self._notices = bot, turns, admission, notices
        self._running, self._signals, self._monitor = running, signals, monitor
        self._variants, self._questions = variants, questions
        self._modes, self._settings = modes, settings

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
        content = text.kept.content if isinstance(text, Question) else text
        # A private topic is a conversation: the first question names it.
        if turn.private and turn.thread_id is not None and await self._has_topics():
            words = own_words if own_words is not None else content
        question = (turn.message_id, content) if turn.message_id is not None else None
        answered = await self._run(turn, Ask(text), quota, words, asked=question)
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

    async def last_answer(self, turn: Turn) -> AnswerVariants | None:
        """The chat's last answer with its variants, as recorded."""
        if self._variants is None:
            return None
        return await self._variants.of(ChatKey(turn.chat_id, turn.thread_id))

    async def streaming(self, turn: Turn) -> Streaming | None:
        """What the turn's chat (its topic) streams now, on whichever replica."""
        streaming = await self._signals.streaming(turn.chat_id)
        if streaming is None or streaming.thread_id != turn.thread_id:
            return None
        return streaming

    async def stop_streaming(self, chat_id: int, streaming: Streaming) -> None:
        """Stop the answer streaming in the chat, for a redo whose rights are checked: here at
        once, on another replica through the signals (on its author's behalf)."""
        generation = self._running.get(streaming.generation_id)
        if generation is not None:
            generation.stop.set()
            return
        await self._signals.request(chat_id, streaming.generation_id, streaming.user_id)

    async def regenerate(
        self, turn: Turn, quota: QuotaLimits | None, previous: AnswerVariants | None
    ) -> bool:
        """Answer the chat's last question again, in place of the answer shown; False when
        there is none to answer again."""
        answered = await self._run(turn, Regenerate(), quota, previous=previous)
        return (answered is not None and answered.reply is not None) or self._running.closing

    async def flip(self, turn: Turn, answer_id: str, index: int) -> bool:
        """Show variant `index` of the chat's last answer; False when the answer is stale."""
        if self._variants is None:
            return False
        flipped = await self._variants.flip(ChatKey(turn.chat_id, turn.thread_id), answer_id, index)
        if flipped is None:
            return False
        await self._notices.show_variant(turn, flipped)
        return True

    async def edited(self, turn: Turn, content: str) -> Edit | None:
        """The edit of the turn's message to answer again (None: ignored)."""
        if self._questions is None or turn.message_id is None:
            return None
        chat = ChatKey(turn.chat_id, turn.thread_id)
        return await self._questions.edited(chat, turn.message_id, content, turn.user_id)

    async def pending_edit(self, turn: Turn, message_id: int) -> Edit | None:
        """The edit of message `message_id` waiting for this user's "Redo from here"."""
        if self._questions is None:
            return None
        chat = ChatKey(turn.chat_id, turn.thread_id)
        return await self._questions.pending(chat, message_id, turn.user_id)

    async def redo(
        self, turn: Turn, quota: QuotaLimits | None, edit: Edit, message_id: int
    ) -> bool:
        """Answer the edited question `message_id` in place of its turn and the later ones
        (the last answer's message is edited when it is the question's own)."""
        last = await self.last_answer(turn) if not edit.later else None
        replaces = last.shown if last is not None else ()
        answered = await self._run(
            turn, Redo(edit.content, edit.later + 1), quota, replaces=replaces,
            asked=(message_id, edit.content),
        )  # fmt: skip
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
        self,
        turn: Turn,
        kind: TurnKind,
        quota: QuotaLimits | None,
        words: str | None = None,
        previous: AnswerVariants | None = None,
        replaces: tuple[int, ...] = (),
        asked: tuple[int, str] | None = None,
    ) -> Answered | None:
        """Run one turn to this chat's sink and record how it ended; None when shutting down.
        `previous`: the answer a Regenerate replaces; `replaces`: the messages a redo edits;
        `asked`: the message answered and what it asked (edit to redo)."""
        if self._running.closing:  # queued behind an answer the shutdown interrupted
            await self._notices.notify(turn, t("restarting", turn.lang))
            return None
        generation = self._running.start(turn.chat_id, turn.user_id)
        chat = ChatKey(turn.chat_id, turn.thread_id)
        settings, mode = await self._chat_settings(chat)
        sink = self._notices.answer_sink(turn, generation, previous, replaces, _footer(mode, turn))
        watcher = self._watch(turn, kind, generation, previous)
        begun = time.monotonic()
        request = TurnRequest(
            chat, turn.actor, turn.lang, kind, not turn.private, quota, words,
            mode.for_turn(turn.lang, DEFAULT_LANG) if mode else NO_MODE,
            settings,
        )  # fmt: skip
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
        if answered.entries and not isinstance(kind, Continue):
            shown = sink.shown if self._variants is not None else ()  # only kept with variants
            kept = Variant(answered.entries, answered.model)
            await self._record(
                turn, recorded(previous, generation.id, turn.user_id, shown, kept), asked
            )
        return answered

    def _watch(
        self, turn: Turn, kind: TurnKind, generation: Generation, previous: AnswerVariants | None
    ) -> asyncio.Task[None]:
        """Stops the generation when asked, on whichever replica (the signals)."""
        streaming = turn.streaming(kind, generation.id, previous)
        return asyncio.create_task(
            self._signals.watch(turn.chat_id, streaming, generation.stop, generation.draft_id)
        )

    async def _chat_settings(self, chat: ChatKey) -> tuple[ChatSettings | None, Mode | None]:
        """The chat's settings and its mode, read together when the store can (one round trip
        for the turn's model, system prompt and mode)."""
        if self._settings is None:
            return None, await self._modes.of(chat) if self._modes is not None else None
        settings = await self._settings.settings(chat)
        return settings, self._modes.chosen(settings.mode) if self._modes is not None else None

    async def _record(
        self, turn: Turn, last: AnswerVariants, asked: tuple[int, str] | None
    ) -> None:
        """Keep the answer for Regenerate and the question it answered for edit to redo, in
        one write."""
        chat = ChatKey(turn.chat_id, turn.thread_id)
        question = Asked.of(*asked, turn.user_id) if asked and self._questions else None
        if self._variants is not None:  # the same store keeps both (bot/app.py)
            await self._variants.record(chat, last, question)
        elif self._questions is not None and asked is not None:
            await self._questions.asked(chat, *asked, turn.user_id)

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


def _footer(mode: Mode | None, turn: Turn) -> str:
    """The answer's footer: the chat's mode when it is not the default."""
    return t("mode_footer", turn.lang, mode=mode.title(turn.lang, DEFAULT_LANG)) if mode else ""
