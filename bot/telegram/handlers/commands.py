"""Commands: /start, /help, /reset (/new), /usage."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message

from bot.core.access import Gate
from bot.core.conversation import ConversationService
from bot.core.models import ChatKey, Usage, UsageTotals
from bot.core.modes import Modes
from bot.core.usage import cost
from bot.telegram.answering import Answering
from bot.telegram.context import Rights
from bot.telegram.handlers.settings import may_manage
from bot.telegram.notices import Notices
from bot.telegram.texts import DEFAULT_LANG, Lang, t
from bot.telegram.turn import Turn


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


async def cmd_start(message: Message, turn: Turn, lang: Lang, notices: Notices) -> None:
    await notices.notify(turn, t("start", lang))


async def cmd_reset(
    message: Message,
    command: CommandObject,
    turn: Turn,
    lang: Lang,
    rights: Rights,
    service: ConversationService,
    answering: Answering,
    notices: Notices,
    bot: Bot,
) -> None:
    if not await may_manage(turn, rights, notices):
        return
    # With private topics /new opens a new topic; the current one keeps its history.
    topics = turn.private and (await bot.me()).has_topics_enabled
    if topics and command.command == "new" and await answering.new_topic(turn):
        return
    await service.reset(ChatKey(turn.chat_id, turn.thread_id))
    await notices.notify(turn, t("reset_done", lang))


async def cmd_usage(
    message: Message,
    turn: Turn,
    lang: Lang,
    service: ConversationService,
    notices: Notices,
    price_per_million: float,
    gate: Gate,
    modes: Modes | None = None,
) -> None:
    text = t("usage", lang, **_periods(await service.usage(turn.user_id), price_per_million, lang))
    mode = await modes.of(ChatKey(turn.chat_id, turn.thread_id)) if modes is not None else None
    if mode is not None:  # not the default
        text += t("usage_mode", lang, mode=mode.title(lang, DEFAULT_LANG))
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
    await notices.notify(turn, text)


def router() -> Router:
    commands = Router(name="commands")
    commands.message.register(cmd_start, CommandStart())
    commands.message.register(cmd_start, Command("help"))
    commands.message.register(cmd_reset, Command("reset", "new"))
    commands.message.register(cmd_usage, Command("usage"))
    return commands
