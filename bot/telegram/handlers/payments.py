"""Selling usage for Stars: /buy and its invoices, the pre-checkout answer, the successful
payment, /paysupport and /terms, and the admins' /refund."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
)

from bot.core.payment_ledger import TYPICAL_ANSWER_TOKENS, Credit, PaymentLedger
from bot.core.payments import CURRENCY, SUBSCRIPTION_PERIOD, Catalog, OfferKind, Pack
from bot.telegram.bot_api import api_error
from bot.telegram.filters import Carries
from bot.telegram.notices import Notices
from bot.telegram.rights import Holds
from bot.telegram.texts import Lang, number, t
from bot.telegram.turn import Turn

log = logging.getLogger(__name__)


class BuyButton(CallbackData, prefix="buy"):
    """Buy a pack (`kind` "p") or subscribe ("s"): the pack is checked against the sale."""

    kind: str
    tokens: int
    stars: int


def _pack_words(pack: Pack, lang: Lang) -> dict[str, object]:
    return {
        "tokens": t("n_tokens", lang, tokens=pack.tokens),
        "stars": t("n_stars", lang, stars=pack.stars),
        "answers": t("n_answers", lang, answers=max(1, pack.tokens // TYPICAL_ANSWER_TOKENS)),
    }


def buy_text(catalog: Catalog, lang: Lang) -> tuple[str, InlineKeyboardMarkup]:
    """The offer: the packs and the subscription, one button each."""
    lines = [t("buy_intro", lang, typical=number(TYPICAL_ANSWER_TOKENS, lang)), ""]
    rows = []
    for pack in catalog.packs:
        words = _pack_words(pack, lang)
        lines.append(t("buy_pack", lang, **words))
        label = t("buy_button", lang, tokens=words["tokens"], stars=number(pack.stars, lang))
        data = BuyButton(kind="p", tokens=pack.tokens, stars=pack.stars).pack()
        rows.append([InlineKeyboardButton(text=label, callback_data=data)])
    if catalog.subscription is not None:
        sub = catalog.subscription
        lines.append(t("buy_subscription", lang, **_pack_words(sub, lang)))
        label = t("subscribe_button", lang, stars=number(sub.stars, lang))
        data = BuyButton(kind="s", tokens=sub.tokens, stars=sub.stars).pack()
        rows.append([InlineKeyboardButton(text=label, callback_data=data)])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def cmd_buy(
    message: Message, turn: Turn, lang: Lang, payments: PaymentLedger, notices: Notices
) -> None:
    if not payments.catalog.for_sale:
        await notices.notify(turn, t("buy_none", lang))
        return
    if not turn.private:
        await notices.notify(turn, t("buy_private", lang))
        return
    text, markup = buy_text(payments.catalog, lang)
    await message.answer(text, reply_markup=markup)


async def on_buy(
    query: CallbackQuery, callback_data: BuyButton, lang: Lang, payments: PaymentLedger, bot: Bot
) -> None:
    pack = Pack(callback_data.tokens, callback_data.stars)
    kind: OfferKind = "s" if callback_data.kind == "s" else "p"
    user_id = query.from_user.id
    payload = payments.catalog.offer(kind, user_id, pack)
    if payload is None:  # the packs changed since the /buy message was sent
        await query.answer(t("pay_refused_changed", lang), show_alert=True)
        return
    await query.answer()
    tokens = t("n_tokens", lang, tokens=pack.tokens)
    prices = [LabeledPrice(label=tokens, amount=pack.stars)]
    if kind == "p":
        await bot.send_invoice(
            chat_id=user_id, title=t("invoice_title", lang, tokens=tokens),
            description=t("invoice_description", lang, tokens=tokens), payload=payload,
            currency=CURRENCY, prices=prices,
        )  # fmt: skip
        return
    link = await bot.create_invoice_link(
        title=t("subscription_title", lang),
        description=t("subscription_description", lang, tokens=tokens), payload=payload,
        currency=CURRENCY, prices=prices, subscription_period=SUBSCRIPTION_PERIOD,
    )  # fmt: skip
    button = InlineKeyboardButton(
        text=t("subscribe_button", lang, stars=number(pack.stars, lang)), url=link
    )
    await bot.send_message(
        user_id, t("subscribe_link", lang, tokens=tokens),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]),
    )  # fmt: skip


async def on_pre_checkout(query: PreCheckoutQuery, lang: Lang, payments: PaymentLedger) -> None:
    """Telegram waits at most 10 s for this answer: no storage is read, the payload's signature
    and the current sale decide."""
    reason = payments.catalog.pre_checkout(
        query.from_user.id, query.invoice_payload, query.currency, query.total_amount
    )
    if reason:
        log.info("pre-checkout refused user=%s reason=%s", query.from_user.id, reason)
        await query.answer(ok=False, error_message=t(reason, lang))
        return
    await query.answer(ok=True)


async def on_paid(
    message: Message, turn: Turn, lang: Lang, payments: PaymentLedger, notices: Notices
) -> None:
    paid = message.successful_payment
    if paid is None or message.from_user is None:
        return
    credit = await payments.paid(
        message.from_user.id, paid.invoice_payload, paid.total_amount,
        paid.telegram_payment_charge_id, paid.subscription_expiration_date,
    )  # fmt: skip
    log.info(
        "payment user=%s stars=%s new=%s recurring=%s", message.from_user.id, paid.total_amount,
        credit.wallet is not None, bool(paid.is_recurring),
    )  # fmt: skip
    text = confirmation(credit, paid.telegram_payment_charge_id, lang)
    if text:  # nothing when taken before: a redelivered update or another replica
        await notices.notify(turn, text)


def confirmation(credit: Credit, charge_id: str, lang: Lang) -> str:
    """What the payer is told of a payment credited now ("" when it was credited before)."""
    if credit.wallet is None:
        return ""
    if credit.offer is None:
        return t("pay_unrecognised", lang, charge=charge_id)
    tokens = t("n_tokens", lang, tokens=credit.offer.pack.tokens)
    if credit.offer.kind == "s":
        until = f"{datetime.fromtimestamp(credit.until, UTC):%Y-%m-%d %H:%M} UTC"
        return t("pay_subscription_done", lang, tokens=tokens, until=until)
    balance = t("n_tokens", lang, tokens=credit.wallet.total)
    return t("pay_done", lang, tokens=tokens, balance=balance)


async def cmd_paysupport(message: Message, turn: Turn, notices: Notices, pay_support: str) -> None:
    await notices.notify(turn, pay_support)


async def cmd_terms(message: Message, turn: Turn, notices: Notices, terms: str) -> None:
    await notices.notify(turn, terms)


async def cmd_refund(
    message: Message,
    command: CommandObject,
    turn: Turn,
    lang: Lang,
    payments: PaymentLedger,
    notices: Notices,
    bot: Bot,
) -> None:
    charge = (command.args or "").strip()
    if not charge or len(charge) > 256:
        await notices.notify(turn, t("refund_hint", lang))
        return
    user_id = await payments.owner(charge)
    if user_id is None:
        await notices.notify(turn, t("refund_unknown", lang, charge=charge))
        return
    try:
        await bot.refund_star_payment(user_id=user_id, telegram_payment_charge_id=charge)
    except TelegramAPIError as exc:
        # Refunded before (by an earlier /refund whose record was cut short): record it now.
        refunded = "ALREADY_REFUNDED" in exc.message.upper().replace(" ", "_")
        if not (isinstance(exc, TelegramBadRequest) and refunded):
            await notices.notify(
                turn, t("refund_failed", lang, charge=charge, error=api_error(exc))
            )
            return
    await _tell_refund(turn, lang, payments, notices, user_id, charge)


async def _tell_refund(
    turn: Turn, lang: Lang, payments: PaymentLedger, notices: Notices, user_id: int, charge: str
) -> None:
    refund = await payments.refunded(user_id, charge)
    if refund.status != "done":
        await notices.notify(turn, t("refund_already", lang, charge=charge))
        return
    payment = await payments.payment(user_id, charge)
    stars = payment.stars if payment is not None else 0
    text = t(
        "refund_done", lang, stars=t("n_stars", lang, stars=stars), user_id=user_id,
        debited=t("n_tokens", lang, tokens=refund.debited),
        balance=t("n_tokens", lang, tokens=refund.balance),
    )  # fmt: skip
    await notices.notify(turn, text)


def router() -> Router:
    payments = Router(name="payments")
    payments.message.register(cmd_buy, Command("buy"))
    payments.message.register(cmd_paysupport, Command("paysupport"))
    payments.message.register(cmd_terms, Command("terms"))
    payments.message.register(on_paid, Carries("successful_payment"))
    payments.callback_query.register(on_buy, BuyButton.filter())
    payments.pre_checkout_query.register(on_pre_checkout)
    return payments


def admin_router() -> Router:
    admin = Router(name="payments-admin")
    admin.message.filter(Holds("bot_admin"))
    admin.message.register(cmd_refund, Command("refund"))
    return admin
