"""What the bot puts in a chat: notices and keyboards, and the view that streams an answer.
Every Bot API call passes the call policy (bot_api.py): paced per chat and bot-wide, retried."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup

from bot.core.bounded import Recent
from bot.core.models import Reply, Usage
from bot.core.variants import MAX_VARIANTS, AnswerVariants
from bot.formatting.rendered import Rendered
from bot.telegram.buttons import StopButton, answer_markup, one_button
from bot.telegram.pacing import Pacers
from bot.telegram.runtime.running import Generation
from bot.telegram.streaming import AnswerParts, AnswerView, Layout, Outbox, RichSwitch, Target
from bot.telegram.streaming.pages import Pages
from bot.telegram.texts import Lang, t
from bot.telegram.turn import Turn


@dataclass(frozen=True, slots=True)
class NoticeOptions:
    use_drafts: bool
    show_reasoning: bool
    message_limit: int
    rich_messages: bool = False
    rich_drafts: bool = False


class Notices:
    """Sends to a chat: short notices, messages with a keyboard, and streamed answers."""

    def __init__(self, bot: Bot, pacers: Pacers, options: NoticeOptions) -> None:
        self._bot = bot
        self._pacers = pacers
        self._options = options
        self._no_drafts: Recent[int, None] = Recent()
        self.rich = RichSwitch(messages=options.rich_messages, drafts=options.rich_drafts)

    def sink(
        self,
        turn: Turn,
        generation: Generation,
        variant: tuple[int, int] = (0, 1),
        replaces: tuple[int, ...] = (),
        answer: tuple[str, int] | None = None,
        footer: str = "",
    ) -> AnswerView:
        """The view that streams `generation`'s answer into the turn's chat (`variant`: which
        of how many variants it is; `replaces`: the messages of the answer it takes over;
        `answer`: the id and regeneration serial it is a variant of, else it is new)."""
        answer_id, serial = answer or (generation.id, 0)
        drafts = self._options.use_drafts and turn.private and turn.chat_id not in self._no_drafts
        lang = turn.lang
        regenerate = t("regenerate_button", lang)
        parts = AnswerParts(
            layout=self.layout(lang, footer),
            draft_id=generation.draft_id if drafts else None,
            stop_markup=one_button(t("stop_button", lang), StopButton(generation=generation.id)),
            continue_markup=answer_markup(
                regenerate, answer_id, serial, variant, (t("continue_button", lang), generation.id)
            ),
            rich=self.rich,
            on_drafts_refused=lambda: self._no_drafts.add(turn.chat_id),
            done_markup=answer_markup(regenerate, answer_id, serial, variant),
            replaces=replaces,
        )
        target = Target(turn.chat_id, turn.thread_id, turn.reply_to)
        return AnswerView(Outbox(self._bot, target, self._pacers), parts)

    def answer_sink(
        self,
        turn: Turn,
        generation: Generation,
        previous: AnswerVariants | None,
        replaces: tuple[int, ...],
        footer: str = "",
    ) -> AnswerView:
        """An answer's view: new, taking over `replaces`, or the next variant of `previous`;
        `footer` closes the final answer (the chat's mode when not the default)."""
        if previous is None:
            return self.sink(turn, generation, replaces=replaces, footer=footer)
        count = min(len(previous.items) + 1, MAX_VARIANTS)
        answer = previous.answer_id, previous.serial + 1
        return self.sink(turn, generation, (count - 1, count), previous.shown, answer, footer)

    async def show_variant(self, turn: Turn, variants: AnswerVariants) -> None:
        """The answer's messages show the variant `variants` keeps now, with its keyboard."""
        entries = variants.items[variants.current].entries
        text = entries[-1].content if entries and entries[-1].role == "assistant" else ""
        reply = Reply(text, "", "complete", Usage(), True)
        count = (variants.current, len(variants.items))
        regenerate = t("regenerate_button", turn.lang)
        markup = answer_markup(regenerate, variants.answer_id, variants.serial, count)
        pages = Pages(self._outbox(turn), variants.shown)
        await pages.show_final(self.layout(turn.lang).final(reply), markup)

    def layout(self, lang: Lang, footer: str = "", reserve: int = 0) -> Layout:
        """How an answer in `lang` is laid out in messages (`footer`: under the final one, the
        chat's mode when not the default; `reserve`: room kept free in each)."""
        return Layout(
            limit=self._options.message_limit - reserve,
            show_reasoning=self._options.show_reasoning,
            notes={
                "stopped": t("stopped_note", lang),
                "interrupted": t("interrupted_note", lang),
                "shut_down": t("shutdown_note", lang),
                "timed_out": t("timed_out_note", lang),
                "length": t("length_note", lang),
                "empty": t("empty_answer", lang),
                "thinking": t("thinking_status", lang),
                "reasoning": t("reasoning_summary", lang),
                "footer": footer,
            },
        )

    async def notify(self, turn: Turn, text: str) -> None:
        """Send a short notice in the chat (paced and retried like every other message).

        In a group, a notice answering an ephemeral command or a button press is ephemeral (only
        that user sees it); if Telegram refuses, it becomes an ordinary message."""
        if not turn.private and (turn.ephemeral_id or turn.callback_query_id):
            target = Target(
                turn.chat_id, turn.thread_id, ephemeral_to=turn.user_id,
                ephemeral_reply=turn.ephemeral_id, ephemeral_callback=turn.callback_query_id,
            )  # fmt: skip
            if await self._outbox(turn, target).send(Rendered(text), None) is not None:
                return
        await self._outbox(turn).send(Rendered(text), None)

    async def send(self, turn: Turn, text: str, markup: InlineKeyboardMarkup | None) -> None:
        """Send a message with an inline keyboard (paced like every other message)."""
        await self._outbox(turn).send(Rendered(text), markup)

    async def show(self, turn: Turn, rendered: Rendered) -> None:
        """Send a message with its own entities (a quote), paced like every other message."""
        await self._outbox(turn).send(rendered, None)

    def _outbox(self, turn: Turn, target: Target | None = None) -> Outbox:
        target = target or Target(turn.chat_id, turn.thread_id, turn.reply_to)
        return Outbox(self._bot, target, self._pacers)
