"""What the bot puts in a chat: notices and keyboards, and the sink that streams an answer.
Every message goes through Delivery, paced per chat and bot-wide."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.render import Rendered
from bot.telegram.delivery import ApiCounters, Delivery, Target
from bot.telegram.pacing import Pacers
from bot.telegram.rich import RichSwitch
from bot.telegram.runtime.running import Generation
from bot.telegram.sink import SinkOptions, TelegramSink
from bot.telegram.texts import t
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

    def __init__(
        self, bot: Bot, pacers: Pacers, counters: ApiCounters, options: NoticeOptions
    ) -> None:
        self._bot = bot
        self._pacers = pacers
        self._counters = counters
        self._options = options
        self._no_drafts: set[int] = set()
        self.rich = RichSwitch(messages=options.rich_messages, drafts=options.rich_drafts)

    def sink(self, turn: Turn, generation: Generation) -> TelegramSink:
        """The sink that streams `generation`'s answer into the turn's chat."""
        return self._sink(turn, generation)

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


def _button(text: str, data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=text, callback_data=data)]]
    )
