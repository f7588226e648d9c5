"""Commands: /start, /help, /reset (/new), /usage (and `/usage payments`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message

from bot.core.access import Gate
from bot.core.conversation import ConversationService
from bot.core.models import ChatKey, Usage, UsageTotals
from bot.core.modes import Modes
from bot.core.payment_ledger import PaymentLedger
from bot.core.usage import cost
from bot.core.voice import SpeechReport
from bot.telegram.answering import Answering
from bot.telegram.notices import Notices
from bot.telegram.rights import Rights, allowed
from bot.telegram.texts import DEFAULT_LANG, Lang, t
from bot.telegram.turn import Turn
from bot.telegram.usage_pictures import UsagePictures

RECENT_PAYMENTS = 3  # shown by /usage; `/usage payments` shows all


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
    if not await allowed("manage_chat", rights, turn, notices):
        return
    # With private topics /new opens a new topic; the current one keeps its history.
    topics = turn.private and (await bot.me()).has_topics_enabled
    if topics and command.command == "new" and await answering.new_topic(turn):
        return
    await service.reset(ChatKey(turn.chat_id, turn.thread_id))
    await notices.notify(turn, t("reset_done", lang))


async def cmd_usage(
    message: Message,
    command: CommandObject,
    turn: Turn,
    lang: Lang,
    service: ConversationService,
    notices: Notices,
    price_per_million: float,
    gate: Gate,
    payments: PaymentLedger,
    speech: SpeechReport | None = None,
    pictures: UsagePictures | None = None,
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
    if payments.catalog.for_sale:
        every = (command.args or "").strip().lower() == "payments"
        text += await paid_text(payments, turn.actor, lang, every)
    text += await speech_lines(speech, turn, lang)
    await notices.notify(turn, text)
    if pictures is not None:
        await pictures.send_usage(turn)


async def speech_lines(speech: SpeechReport | None, turn: Turn | None, lang: Lang) -> str:
    """This month's transcribed minutes: the user's (and the group's), or the bot's (no turn)."""
    if speech is None:
        return ""
    now = datetime.now(UTC)
    owners: list[tuple[Literal["user", "chat"], int] | None] = [None]
    if turn is not None:
        owners = [("user", turn.user_id)]
        if not turn.private:
            owners.append(("chat", turn.chat_id))
    lines = ""
    for owner in owners:
        found = await speech.minutes(owner, now)
        if found is not None:
            lines += "\n" + t("usage_speech", lang, minutes=found[0], cost=found[1])
    return lines


async def paid_text(payments: PaymentLedger, user_id: int, lang: Lang, every: bool) -> str:
    """The paid tokens left and the last payments (`every`: all of them)."""
    wallet = await payments.wallet(user_id)
    text = t("usage_paid", lang, balance=t("n_tokens", lang, tokens=wallet.balance))
    if wallet.subscription or wallet.until:
        until = f"{datetime.fromtimestamp(wallet.until, UTC):%Y-%m-%d %H:%M} UTC"
        sub = t("n_tokens", lang, tokens=wallet.subscription)
        text += t("usage_subscription", lang, tokens=sub, until=until)
    shown = await payments.payments(user_id, 0 if every else RECENT_PAYMENTS + 1)
    if not shown:
        return text + t("usage_no_payments", lang)
    text += t("usage_payments", lang)
    for payment in shown[: None if every else RECENT_PAYMENTS]:
        text += t(
            "usage_payment_line", lang, date=f"{payment.at:%Y-%m-%d}",
            tokens=t("n_tokens", lang, tokens=payment.tokens),
            stars=t("n_stars", lang, stars=payment.stars), charge=payment.charge_id,
        )  # fmt: skip
        if payment.refunded:
            text += t("usage_payment_refunded", lang)
    if not every and len(shown) > RECENT_PAYMENTS:
        text += t("usage_payments_more", lang)
    return text


def router() -> Router:
    commands = Router(name="commands")
    commands.message.register(cmd_start, CommandStart())
    commands.message.register(cmd_start, Command("help"))
    commands.message.register(cmd_reset, Command("reset", "new"))
    commands.message.register(cmd_usage, Command("usage"))
    return commands
