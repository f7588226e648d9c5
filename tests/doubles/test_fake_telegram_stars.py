"""The fake's Stars payments behave like the Bot API: checked invoices, one pre-checkout answer
in time, one refund per charge."""

from __future__ import annotations

import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import LabeledPrice

from tests.doubles.fake_telegram import FakeTelegramServer
from tests.doubles.fake_telegram_stars import Invoice

USER = 77
PRICE = [LabeledPrice(label="100 tokens", amount=5)]


async def test_invoices_are_checked_as_telegram_does() -> None:
    async with FakeTelegramServer() as tg:
        bot = tg.make_bot()
        try:
            tg.chat(USER)
            two = [*PRICE, LabeledPrice(label="more", amount=1)]
            for kwargs, error in (
                ({"prices": two}, "STARS_INVOICE_INVALID"),
                ({"currency": "USD"}, "CURRENCY_INVALID"),
                ({"provider_token": "284685063:TEST"}, "PROVIDER_TOKEN_INVALID"),
                ({"payload": "p" * 129}, "INVOICE_PAYLOAD_INVALID"),
            ):
                args = {"chat_id": USER, "title": "Tokens", "description": "d",
                        "payload": "p1", "currency": "XTR", "prices": PRICE} | kwargs  # fmt: skip
                with pytest.raises(TelegramBadRequest, match=error):
                    await bot.send_invoice(**args)  # type: ignore[arg-type]
            sent = await bot.send_invoice(USER, "Tokens", "d", "p1", "XTR", PRICE)
            assert sent.invoice is not None and sent.invoice.total_amount == 5
            with pytest.raises(TelegramBadRequest, match="SUBSCRIPTION_PERIOD_INVALID"):
                await bot.create_invoice_link("T", "d", "p2", "XTR", PRICE, subscription_period=60)
            link = await bot.create_invoice_link(
                "T", "d", "p2", "XTR", PRICE, subscription_period=2592000
            )
            assert link == tg.stars.last_invoice().link
        finally:
            await bot.session.close()


async def test_a_pre_checkout_is_answered_once_and_in_time() -> None:
    now = [1000.0]
    async with FakeTelegramServer(clock=lambda: now[0]) as tg:
        bot = tg.make_bot()
        try:
            tg.stars.queries["q1"] = (now[0], {})
            tg.stars.queries["q2"] = (now[0], {})
            with pytest.raises(TelegramBadRequest, match="ERROR_MESSAGE_EMPTY"):
                await bot.answer_pre_checkout_query("q1", ok=False)
            assert await bot.answer_pre_checkout_query("q1", ok=True)
            with pytest.raises(TelegramBadRequest, match="query is too old"):
                await bot.answer_pre_checkout_query("q1", ok=True)  # answered already
            now[0] += 10.5
            with pytest.raises(TelegramBadRequest, match="query is too old"):
                await bot.answer_pre_checkout_query("q2", ok=True)  # Telegram's 10 s are over
        finally:
            await bot.session.close()


async def test_a_charge_is_refunded_once() -> None:
    async with FakeTelegramServer() as tg:
        bot = tg.make_bot()
        try:
            invoice = Invoice(USER, "T", "d", "p1", 5)
            charge, _ = await tg.stars.successful_payment(USER, invoice, deliver=False)
            assert await bot.refund_star_payment(USER, charge)
            with pytest.raises(TelegramBadRequest, match="CHARGE_ALREADY_REFUNDED"):
                await bot.refund_star_payment(USER, charge)
            with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
                await bot.refund_star_payment(USER, "nope")
            found = await bot.get_star_transactions()
            assert [(t.id, t.source is not None) for t in found.transactions] == [
                (charge, True), (charge, False)
            ]  # fmt: skip
        finally:
            await bot.session.close()
