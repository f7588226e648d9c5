"""Commands: /start, /help, /reset (/new), /usage."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import Message

from bot.core.conversation import ConversationService
from bot.core.models import ChatKey, Usage
from bot.core.usage import cost
from bot.telegram.responder import Responder, turn_of
from bot.telegram.texts import Lang, t


def usage_line(usage: Usage, price: float, lang: Lang) -> str:
    return t(
        "usage_line",
        lang,
        total=usage.total_tokens,
        prompt=usage.prompt_tokens,
        completion=usage.completion_tokens,
        cost=f"{cost(usage, price):.8f}".rstrip("0").rstrip(".") or "0",
    )


def setup() -> Router:
    router = Router(name="commands")
    router.message.filter(F.chat.type == "private")

    @router.message(CommandStart())
    @router.message(Command("help"))
    async def cmd_start(message: Message, lang: Lang, responder: Responder) -> None:
        await responder.notify(turn_of(message, lang), t("start", lang))

    @router.message(Command("reset", "new"))
    async def cmd_reset(
        message: Message, lang: Lang, service: ConversationService, responder: Responder
    ) -> None:
        turn = turn_of(message, lang)
        await service.reset(ChatKey(turn.chat_id, turn.thread_id))
        await responder.notify(turn, t("reset_done", lang))

    @router.message(Command("usage"))
    async def cmd_usage(
        message: Message,
        lang: Lang,
        service: ConversationService,
        responder: Responder,
        price_per_million: float,
    ) -> None:
        turn = turn_of(message, lang)
        totals = await service.usage(turn.user_id)
        await responder.notify(
            turn,
            t(
                "usage",
                lang,
                today=usage_line(totals.today, price_per_million, lang),
                month=usage_line(totals.month, price_per_million, lang),
                all_time=usage_line(totals.all_time, price_per_million, lang),
                price=f"{price_per_million:g}",
            ),
        )

    return router
