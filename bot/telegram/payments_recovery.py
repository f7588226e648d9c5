"""Payments Telegram took but the ledger never saw: a crash after an update was acknowledged and
before its credit loses the successful_payment update, not the money. At start-up the bot reads
its Star transactions (getStarTransactions, oldest first) from where the last start-up left off
and credits any charge the ledger lacks, keyed by its charge id like every credit."""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import SendMessage
from aiogram.types import StarTransaction, TransactionPartnerUser

from bot.core.errors import StorageUnavailable
from bot.core.payment_ledger import PaymentLedger
from bot.telegram.bot_api import api_error, try_call
from bot.telegram.handlers.payments import confirmation
from bot.telegram.texts import lang_of

log = logging.getLogger(__name__)

PAGE = 100  # getStarTransactions' largest page
OVERLAP = PAGE  # read again: transactions made while the last start-up was reading
MAX_PAGES = 50  # per start-up; the next one goes on from there


async def recover_payments(bot: Bot, ledger: PaymentLedger) -> int:
    """Credit the paid invoices the ledger lacks; how many were credited now. A failure is
    logged (the next start-up tries again), never fatal."""
    try:
        start = max(await ledger.synced() - OVERLAP, 0)
        credited = 0
        for _ in range(MAX_PAGES):
            page = await bot.get_star_transactions(offset=start, limit=PAGE)
            for transaction in page.transactions:
                credited += await _recover(bot, ledger, transaction)
            start += len(page.transactions)
            if len(page.transactions) < PAGE:
                break
        await ledger.mark_synced(start)
    except (TelegramAPIError, StorageUnavailable) as exc:
        error = api_error(exc) if isinstance(exc, TelegramAPIError) else type(exc).__name__
        log.warning("star transactions not checked error=%s", error)
        return 0
    if credited:
        log.warning("payments credited from the star transactions count=%d", credited)
    return credited


async def _recover(bot: Bot, ledger: PaymentLedger, transaction: StarTransaction) -> int:
    source = transaction.source
    if not isinstance(source, TransactionPartnerUser) or source.invoice_payload is None:
        return 0  # not a paid invoice of a user (a refund has a receiver, not a source)
    expires = None
    if source.subscription_period:
        expires = _epoch(transaction.date) + source.subscription_period
    credit = await ledger.paid(
        source.user.id, source.invoice_payload, transaction.amount, transaction.id, expires
    )
    text = confirmation(credit, transaction.id, lang_of(source.user.language_code))
    if not text:
        return 0
    await try_call(bot, SendMessage(chat_id=source.user.id, text=text))
    return 1


def _epoch(value: datetime | int) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)
