"""Commands: /start, /help, /reset (/new), /usage."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message

from bot.core.access import Gate
from bot.core.conversation import ConversationService
from bot.core.models import ChatKey, Usage, UsageTotals
from bot.core.usage import cost
from bot.telegram.chat_admins import ChatAdmins
from bot.telegram.responder import Responder, turn_of
from bot.telegram.texts import Lang, t


def usage_line(usage: Usage, price: float, lang: Lang) -> str:
    return t(
        "usage_line",
        lang,
        total=usage.total_tokens,
        prompt=usage.prompt_tokens,
        completion=usage.completion_tokens,
        cost=round(cost(usage, price), 8),
    )


def _periods(totals: UsageTotals, price: float, lang: Lang) -> dict[str, object]:
    return {
        "today": usage_line(totals.today, price, lang),
        "month": usage_line(totals.month, price, lang),
        "all_time": usage_line(totals.all_time, price, lang),
        "price": price,
    }


def setup() -> Router:
    router = Router(name="commands")

    @router.message(CommandStart())
    @router.message(Command("help"))
    async def cmd_start(message: Message, lang: Lang, responder: Responder) -> None:
        await responder.notify(turn_of(message, lang), t("start", lang))

    @router.message(Command("reset", "new"))
    async def cmd_reset(
        message: Message,
        command: CommandObject,
        lang: Lang,
        service: ConversationService,
        responder: Responder,
        bot: Bot,
        gate: Gate,
        chat_admins: ChatAdmins,
    ) -> None:
        turn = turn_of(message, lang)
        group_admin = await chat_admins.of(message, turn.user_id, gate.is_admin(turn.user_id))
        if not gate.may_manage_chat(turn.user_id, turn.private, group_admin):
            await responder.notify(turn, t("group_admins_only", lang))
            return
        # With private topics /new opens a new topic; the current one keeps its history.
        topics = turn.private and (await bot.me()).has_topics_enabled
        if topics and command.command == "new" and await responder.new_topic(turn):
            return
        await service.reset(ChatKey(turn.chat_id, turn.thread_id))
        await responder.notify(turn, t("reset_done", lang))

    @router.message(Command("usage"))
    async def cmd_usage(
        message: Message,
        lang: Lang,
        service: ConversationService,
        responder: Responder,
        price_per_million: float,
        gate: Gate,
    ) -> None:
        turn = turn_of(message, lang)
        text = t(
            "usage", lang, **_periods(await service.usage(turn.user_id), price_per_million, lang)
        )
        for quota in await gate.quotas(turn.user_id):
            text += t(
                "usage_quota",
                lang,
                period=t(f"period_{quota.period}", lang),
                remaining=quota.remaining,
                limit=quota.limit,
                reset=f"{quota.resets_at:%Y-%m-%d %H:%M} UTC",
            )
        if not turn.private:
            group = await service.group_usage(turn.chat_id)
            text += t("usage_group", lang, **_periods(group, price_per_million, lang))
        await responder.notify(turn, text)

    return router
