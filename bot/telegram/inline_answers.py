"""Inline answers: a chosen inline result (or its ▶ button, or 🔄) streams the answer into the
inline message by the same AnswerView, with an inline target. One answer per claim; no chat's
history; a long answer ends with a link to the full text in the bot's private chat."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.inline import InlinePending, PendingQuestion
from bot.core.model_choice import ModelChoice
from bot.core.models import ChatKey, Reply, Usage
from bot.core.turns import Inline, TurnRequest, Turns
from bot.formatting.render import Rendered
from bot.telegram.admission import Admission
from bot.telegram.bot_api import api_error
from bot.telegram.notices import Notices
from bot.telegram.pacing import Pacers
from bot.telegram.runtime.running import Running
from bot.telegram.streaming import AnswerParts, AnswerView, Layout, Outbox, RichSwitch, Target
from bot.telegram.streaming.inline import INLINE_SLOT, InlineOutbox
from bot.telegram.streaming.pages import Pages
from bot.telegram.texts import lang_of, t
from bot.telegram.turn import denial_text, error_text

log = logging.getLogger(__name__)

_NO_USAGE = Usage()

LINK_RESERVE = 200  # room in the one message for the link to the full answer
FULL_PREFIX = "inl_"  # the /start parameter naming a long answer's full text


class AnswerButton(CallbackData, prefix="ia"):
    """Start the answer of a pending inline question (its author only)."""

    result: str


class RegenButton(CallbackData, prefix="ir"):
    """Answer the inline question again, in place (its author only); `attempt` names the run."""

    result: str
    attempt: int


def button(text: str, data: CallbackData) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=text, callback_data=data.pack())]]
    )


@dataclass(frozen=True, slots=True)
class Started:
    """How a start request ended: "run" (answered here), "taken" (another start has it),
    "gone" (expired), "not_yours" or "refused" (by the gate, told in the message)."""

    outcome: str


class InlineAnswers:
    """Starts inline answers (see the module's doc)."""

    def __init__(
        self,
        bot: Bot,
        turns: Turns,
        pending: InlinePending,
        admission: Admission,
        notices: Notices,
        pacers: Pacers,
        running: Running,
    ) -> None:
        self._bot, self._turns, self._pending = bot, turns, pending
        self._admission, self._notices, self._pacers = admission, notices, pacers
        self._running = running

    async def check(self, result_id: str, user_id: int) -> str | None:
        """Why `user_id` may not start `result_id` ("gone": expired, "not_yours"), or None."""
        pending = await self._pending.get(result_id)
        if pending is None:
            return "gone"
        return "not_yours" if user_id != pending.user_id else None

    async def start(
        self, result_id: str, inline_message_id: str, user_id: int, attempt: int = 0
    ) -> Started:
        """Answer the pending question `result_id` in the inline message, once per attempt."""
        pending = await self._pending.get(result_id)
        if pending is None:
            return Started("gone")
        if user_id != pending.user_id:
            return Started("not_yours")
        if self._running.closing or not await self._pending.claim(result_id, attempt):
            return Started("taken")  # shutting down: another replica (or the restart) takes it
        # Each answer is a turn for the gate too (flood control and quota, counted once here):
        # the typed queries alone do not bound how many results a user picks.
        verdict = await self._admission.judge_inline(user_id)
        if verdict.denial is not None:
            await self.tell(inline_message_id, denial_text(verdict.denial, lang_of(pending.lang)))
            return Started("refused")
        pending = replace(pending, quota=verdict.limits)
        await self._run(result_id, inline_message_id, pending, attempt)
        return Started("run")

    async def tell(self, inline_message_id: str, text: str) -> None:
        """Put `text` in the inline message in place of its question (no keyboard)."""
        outbox = InlineOutbox(self._bot, inline_message_id, self._pacers)
        await outbox.edit(INLINE_SLOT, Rendered(text), None, final=True)

    async def _run(
        self, result_id: str, inline_message_id: str, pending: PendingQuestion, attempt: int
    ) -> None:
        lang = lang_of(pending.lang)
        regen = button(
            t("inline_regen_button", lang), RegenButton(result=result_id, attempt=attempt + 1)
        )
        layout = self._notices.layout(lang)
        notes = {**layout.notes, "length": t("inline_length_note", lang)}  # no Continue here
        layout = replace(layout, notes=notes)
        cut = self._notices.layout(
            lang, reserve=LINK_RESERVE
        )  # the text's share: the link fits after
        parts = AnswerParts(
            layout=layout, draft_id=None, stop_markup=None, continue_markup=regen,
            rich=RichSwitch(messages=False, drafts=False), on_drafts_refused=lambda: None,
            done_markup=regen,
        )  # fmt: skip
        outbox = InlineOutbox(self._bot, inline_message_id, self._pacers)
        if attempt:  # 🔄: the old answer gives way to the placeholder at once
            await outbox.edit(
                INLINE_SLOT, Rendered(t("inline_placeholder", lang)), None, final=True
            )
        link = await self._link(result_id)
        sink = InlineSink(AnswerView(outbox, parts), cut, self, result_id, pending, link)
        request = TurnRequest(
            ChatKey(pending.user_id),
            pending.user_id,
            lang,
            Inline(pending.question),
            quota=pending.quota,
        )
        # Registered like every answer: a shutdown delivers what it has, with its note.
        generation = self._running.start(pending.user_id, pending.user_id)
        try:
            answered = await self._turns.run(request, sink, generation.stop, _not_told)
            if answered.error is not None:
                await sink.fail(error_text(answered.error, lang))
        finally:
            await sink.close()
            self._running.end(generation)

    async def _link(self, result_id: str) -> str:
        me = await self._bot.me()
        return f"https://t.me/{me.username}?start={FULL_PREFIX}{result_id}"

    async def keep_full(self, result_id: str, reply: Reply) -> None:
        """A long answer's full text, kept for the private chat's deep link."""
        await self._pending.put_full(result_id, reply.text)

    async def send_full(self, result_id: str, user_id: int, text: str, lang: str) -> bool:
        """Send a full answer to the user's private chat; False when Telegram refuses. A
        delivery already under way (the answer's own, waiting out a 429, when the user opens
        the link) is the one: the text never arrives twice at once."""
        if not await self._pending.begin_full(result_id):
            return True
        layout = self._notices.layout(lang_of(lang))
        reply = Reply(text, "", "complete", _NO_USAGE, True)
        pages = Pages(Outbox(self._bot, Target(user_id), self._pacers))
        try:
            await pages.show_final(layout.final(reply), None)
        except TelegramAPIError as exc:
            log.info("full inline answer not sent user=%s error=%s", user_id, api_error(exc))
            return False
        finally:
            await self._pending.end_full(result_id)
        return bool(pages.ids)

    async def full_text(self, result_id: str) -> str | None:
        return await self._pending.get_full(result_id)


async def _not_told(choice: ModelChoice) -> None:
    return None  # an inline message has no room for notices: the answer comes from the fallback


class InlineSink:
    """The ReplySink of an inline answer: the view, kept to one message; past it, the first
    piece and a link to the full answer (kept for the private chat)."""

    def __init__(
        self,
        view: AnswerView,
        layout: Layout,
        answers: InlineAnswers,
        result_id: str,
        pending: PendingQuestion,
        link: str,
    ) -> None:
        self._view, self._layout, self._answers = view, layout, answers
        self._result_id, self._pending, self._link = result_id, pending, link
        self._cut: str | None = None  # the first piece, once the text outgrew one message

    async def started(self) -> None:
        await self._view.started()

    def update(self, text: str, reasoning: str) -> None:
        self._view.update(self._one_piece(text, reasoning), reasoning)

    def tool_status(self, lines: Sequence[str]) -> None:
        self._view.tool_status(lines)

    def _one_piece(self, text: str, reasoning: str) -> str:
        if self._cut is not None:
            return self._cut
        if len(text) * 2 < self._layout.limit // 2:  # far from the limit in any encoding
            return text
        pieces = self._layout.pieces(text.strip(), reasoning)
        if len(pieces) > 1:
            self._cut = pieces[0] + " …"
            return self._cut
        return text

    async def finish(self, reply: Reply) -> None:
        pieces = (
            self._layout.pieces(reply.text.strip(), reply.reasoning) if reply.text.strip() else []
        )
        if len(pieces) <= 1:
            await self._view.finish(reply)
            return
        await self._answers.keep_full(self._result_id, reply)  # before the link shows
        label = t("inline_full_link", lang_of(self._pending.lang))
        text = f"{pieces[0]} …\n\n[{label}]({self._link})"
        await self._view.finish(replace(reply, text=text))
        await self._answers.send_full(
            self._result_id, self._pending.user_id, reply.text, self._pending.lang
        )

    async def fail(self, text: str) -> None:
        await self._view.fail(text)

    async def close(self) -> None:
        await self._view.close()
