"""An inline message as one more target of the AnswerView: it is edited by inline_message_id
(there is no chat to send to), paced by its own id, live by edits, in one piece."""

from __future__ import annotations

from aiogram import Bot
from aiogram.methods import EditMessageText
from aiogram.types import InlineKeyboardMarkup

from bot.formatting.render import Rendered
from bot.telegram.pacing import Pacer, Pacers
from bot.telegram.streaming.outbox import NO_PREVIEW, DraftsRefused, Outbox, Target, to_entities
from bot.telegram.streaming.rich import RichUnavailable

INLINE_SLOT = 0  # the one message of an inline answer, in Pages' terms


class InlineOutbox(Outbox):
    """The calls of one inline message: edits only. Nothing can be sent, drafted or deleted
    (the view degrades to edits; the caller builds the view with rich off)."""

    def __init__(self, bot: Bot, inline_message_id: str, pacers: Pacers) -> None:
        super().__init__(bot, Target(0), pacers)
        self._inline_id = inline_message_id
        self._inline_pacers = pacers

    @property
    def standing(self) -> tuple[int, ...]:
        return (INLINE_SLOT,)

    def pacers(self, *, draft: bool) -> tuple[Pacer, ...]:
        return self._inline_pacers.of_inline(self._inline_id)

    async def send(
        self,
        content: Rendered,
        markup: InlineKeyboardMarkup | None,
        *,
        final: bool = True,
        urgent: bool = False,
    ) -> int | None:
        return None  # an inline answer is the one message the user sent

    async def edit(
        self,
        message_id: int,
        content: Rendered,
        markup: InlineKeyboardMarkup | None,
        *,
        final: bool,
        urgent: bool = False,
    ) -> bool:
        def build(rendered: Rendered) -> EditMessageText:
            return EditMessageText(
                inline_message_id=self._inline_id, text=rendered.text,
                entities=to_entities(rendered), parse_mode=None, link_preview_options=NO_PREVIEW,
                reply_markup=markup,
            )  # fmt: skip

        return await self._text_call(build, content, final=final, urgent=urgent) is not None

    async def draft(self, draft_id: int, content: Rendered, *, urgent: bool = False) -> bool:
        raise DraftsRefused("an inline message has no drafts")

    async def draft_rich(self, draft_id: int, markdown: str, *, urgent: bool = False) -> bool:
        raise DraftsRefused("an inline message has no drafts")

    async def typing(self) -> None:
        return None  # no chat to show it in

    async def delete(self, message_id: int) -> None:
        return None

    async def send_rich(self, markdown: str, markup: InlineKeyboardMarkup | None) -> int | None:
        raise RichUnavailable("an inline answer is text")

    async def edit_rich(
        self, message_id: int, markdown: str, markup: InlineKeyboardMarkup | None
    ) -> bool:
        raise RichUnavailable("an inline answer is text")
