"""Selling usage for Telegram Stars (issue 24): /buy, the invoice, the pre-checkout, the credit
(once per charge), the paid balance spent after the free quota, refunds, /usage and /stats."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.app import build_app
from bot.config import Settings
from tests.doubles.fake_gonka import FakeGonka, Reply
from tests.doubles.fake_telegram import FakeTelegramServer
from tests.doubles.fake_telegram_stars import Invoice
from tests.e2e.conftest import FAST, USER, Env, EnvFactory, make_settings

ADMIN = 9001
PACKS = "100000:25,1000000:200"
SALE: dict[str, Any] = {
    **FAST,
    "admin_ids": frozenset({ADMIN}),
    "daily_token_quota": 30,
    "star_packs": PACKS,
}


async def _say(env: Env, text: str, count: int, chat_id: int = USER, **kw: Any) -> str:
    await env.telegram.send_text(chat_id, text, user_id=chat_id, **kw)
    await env.wait_replies(count, chat_id)
    return env.visible_texts(chat_id)[-1]


async def _buy(env: Env, count: int, pack: int = 0, user: int = USER) -> Invoice:
    """/buy, then press the pack's button: the invoice the bot sends."""
    offer = await _say(env, "/buy", count, user)
    assert "100,000 tokens for 25 Stars (about 50 answers)" in offer
    message = env.visible(user)[-1]
    data = message.reply_markup["inline_keyboard"][pack][0]["callback_data"]  # type: ignore[index]
    sent = len(env.telegram.stars.invoices)
    await env.telegram.press_button(user, message.message_id, data, user_id=user)
    await env.telegram.wait_for(lambda: len(env.telegram.stars.invoices) > sent)
    return env.telegram.stars.last_invoice(user)


async def test_a_user_over_quota_buys_a_pack_and_is_answered(make_env: EnvFactory) -> None:
    async with make_env(**SALE) as env:
        env.gonka.enqueue(Reply(text="A fairly long answer that uses up the whole daily quota."))
        await _say(env, "first question", 1)
        refused = await _say(env, "second question", 2)
        assert refused.startswith("You have used your daily quota of 30 tokens.")
        assert "/buy" in refused  # offered in the same message
        assert env.gonka.completion_calls == 1

        invoice = await _buy(env, 3)
        assert invoice.stars == 25 and invoice.title == "100,000 tokens"
        call = env.telegram.calls_of("sendInvoice")[-1]
        assert call.params["currency"] == "XTR" and "provider_token" not in call.params
        assert "pre_checkout_query" in (env.telegram.allowed_updates or [])
        checkout = await env.telegram.stars.pay(USER, invoice)
        assert checkout.ok is True
        await env.wait_replies(5)
        confirmed = env.visible_texts()[-1]
        assert confirmed == "Thank you! 100,000 tokens added. Your paid balance: 100,000 tokens."

        assert await _say(env, "third question", 6) == "Echo: third question"
        usage = await _say(env, "/usage", 7)
        assert "Paid tokens left: 99," in usage  # the turn was charged to the paid balance
        assert f"25 Stars · {checkout.charge_id}" in usage


async def test_a_duplicate_successful_payment_credits_once(make_env: EnvFactory) -> None:
    async with make_env(**SALE) as env:
        invoice = await _buy(env, 1)
        checkout = await env.telegram.stars.pay(USER, invoice)
        await env.wait_replies(3)
        # Telegram delivers the same update again (after a restart, to another replica...).
        update = next(u for u in env.telegram.delivered if u["update_id"] == checkout.update_id)
        await env.telegram.raw_update(dict(update))
        await env.telegram.raw_update({k: v for k, v in update.items() if k != "update_id"})
        usage = await _say(env, "/usage", 4)
        assert "Paid tokens left: 100,000 tokens" in usage
        assert usage.count(checkout.charge_id) == 1
        assert (
            env.visible_texts().count(
                "Thank you! 100,000 tokens added. Your paid balance: 100,000 tokens."
            )
            == 1
        )


async def test_a_tampered_payload_is_refused_at_pre_checkout(make_env: EnvFactory) -> None:
    async with make_env(**SALE) as env:
        invoice = await _buy(env, 1)
        cheap = invoice.payload.replace("|100000|", "|1000000|")
        refused = await env.telegram.stars.pre_checkout(USER, invoice, payload=cheap)
        assert refused.ok is False and "not issued to you" in refused.error_message
        other = await env.telegram.stars.pre_checkout(USER + 1, invoice)  # someone else's
        assert other.ok is False
        # Garbage while another user is answered: refused in words, the other answer unharmed.
        await env.telegram.send_text(USER + 2, "hello", user_id=USER + 2)
        for hostile in ("|" * 64, "v1|p|1|1|1|00|" + "f" * 32, "\x00" * 128):
            garbage = await env.telegram.stars.pre_checkout(USER, invoice, payload=hostile)
            assert garbage.ok is False and "not issued to you" in garbage.error_message
        await env.wait_replies(1, USER + 2)
        assert env.visible_texts(USER + 2) == ["Echo: hello"]
        # A refused pre-checkout does not cancel the invoice: it can still be paid.
        paid = await env.telegram.stars.pay(USER, invoice)
        assert paid.ok is True
        await env.wait_replies(3)
        assert "100,000 tokens added" in env.visible_texts()[-1]


async def test_a_pack_changed_since_the_invoice_is_refused_in_words(make_env: EnvFactory) -> None:
    async with make_env(**SALE) as first:
        invoice = await _buy(first, 1)
    async with make_env(**{**SALE, "star_packs": "100000:30"}) as env:
        env.telegram.stars.invoices.append(invoice)
        refused = await env.telegram.stars.pre_checkout(USER, invoice)
    assert refused.ok is False and "has changed" in refused.error_message


async def test_an_admin_refund_debits_once(make_env: EnvFactory) -> None:
    async with make_env(**SALE) as env:
        invoice = await _buy(env, 1)
        checkout = await env.telegram.stars.pay(USER, invoice)
        await env.wait_replies(3)
        refused = await _say(env, f"/refund {checkout.charge_id}", 4)
        assert refused == "Only the bot's admins can do that."
        done = await _say(env, f"/refund {checkout.charge_id}", 1, ADMIN)
        assert done == (
            f"Refunded 25 Stars to user {USER}; 100,000 tokens taken back from their balance, "
            "which is now 0 tokens."
        )
        again = await _say(env, f"/refund {checkout.charge_id}", 2, ADMIN)
        assert again == f"The payment {checkout.charge_id} was refunded already."
        unknown = await _say(env, "/refund stxNoSuchCharge", 3, ADMIN)
        assert unknown == "No payment with the charge id stxNoSuchCharge is recorded."
        usage = await _say(env, "/usage", 5)
        assert "Paid tokens left: 0 tokens" in usage and "(refunded)" in usage
        stats = await _say(env, "/stats", 4, ADMIN)
        assert "Stars: 25 Stars received, 25 Stars refunded" in stats
        refunds = env.telegram.calls_of("refundStarPayment")
        assert [c.status for c in refunds] == [200, 400]
        # Refunded through Telegram before the ledger heard of it (a /refund cut short), told in
        # other words: matched by kind, recorded now.
        again_invoice = await _buy(env, 6)
        paid = await env.telegram.stars.pay(USER, again_invoice)
        await env.wait_replies(8)
        env.telegram.fail_next(
            "refundStarPayment", status=400, description="Bad Request: charge already refunded"
        )
        done = await _say(env, f"/refund {paid.charge_id}", 5, ADMIN)
        assert done.startswith("Refunded 25 Stars") and "which is now 0 tokens" in done
        env.telegram.fail_next(
            "refundStarPayment", status=400, description="Bad Request: BOT_ERROR"
        )
        failed = await _say(env, f"/refund {checkout.charge_id}", 6, ADMIN)
        assert failed.startswith(f"Telegram did not refund {checkout.charge_id}: ")


async def test_the_menu_lists_the_payment_commands_when_tokens_are_sold(
    make_env: EnvFactory,
) -> None:
    async with make_env(**SALE) as env:
        await env.telegram.wait_for(lambda: len(env.telegram.calls_of("setMyCommands")) >= 6)
        private = env.telegram.commands_of({"type": "all_private_chats"}, "ru")
        assert [c["command"] for c in private][-4:] == ["buy", "paysupport", "terms", "help"]
        assert private[-4]["description"] == "Купить токены за Telegram Stars"
        terms = await _say(env, "/terms", 1)
        assert terms.startswith("Tokens bought are spent only after")
        assert "Write to the bot's operator" in await _say(env, "/paysupport", 2)


async def _subscribe(env: Env, user: int, count: int) -> Invoice:
    await _say(env, "/buy", count, user)
    message = env.visible(user)[-1]
    data = message.reply_markup["inline_keyboard"][-1][0]["callback_data"]  # type: ignore[index]
    await env.telegram.press_button(user, message.message_id, data, user_id=user)
    await env.wait_replies(count + 1, user)
    link = env.visible(user)[-1]
    invoice = env.telegram.stars.last_invoice()
    assert link.reply_markup["inline_keyboard"][0][0]["url"] == invoice.link  # type: ignore[index]
    call = env.telegram.calls_of("createInvoiceLink")[-1]
    assert call.params["subscription_period"] == 2592000 and call.params["currency"] == "XTR"
    return invoice


async def test_a_subscription_renews_and_ends(make_env: EnvFactory) -> None:
    month = 2592000
    async with make_env(**{**SALE, "star_subscription": "300000:150"}) as env:
        env.gonka.enqueue(Reply(text="A fairly long answer that uses up the whole daily quota."))
        await _say(env, "first question", 1)
        invoice = await _subscribe(env, USER, 2)
        assert invoice.stars == 150 and invoice.subscription_period == month
        started = time.time() - month + 3600  # a month ago: an hour of this period is left
        checkout = await env.telegram.stars.pay(USER, invoice, now=started)
        assert checkout.ok is True
        await env.wait_replies(4)
        assert env.visible_texts()[-1].startswith("Thank you! Your subscription gives you 300,000")
        assert await _say(env, "second question", 5) == "Echo: second question"
        usage = await _say(env, "/usage", 6)
        assert "Subscription: 299," in usage  # the turn was charged to the allowance

        # The renewal at the period's end: a new period, the full allowance again.
        renewed = started + month
        await env.telegram.stars.successful_payment(USER, invoice, recurring=True, now=renewed)
        await env.wait_replies(7)
        until = datetime.fromtimestamp(renewed + month, UTC)
        assert f"300,000 tokens until {until:%Y-%m-%d %H:%M} UTC" in env.visible_texts()[-1]
        usage = await _say(env, "/usage", 8)
        assert f"Subscription: 300,000 tokens left until {until:%Y-%m-%d %H:%M}" in usage

        # Another user's subscription was not renewed: its period is over, its allowance gone.
        other = USER + 1
        env.gonka.enqueue(Reply(text="A fairly long answer that uses up the whole daily quota."))
        await _say(env, "first question", 1, other)
        invoice = await _subscribe(env, other, 2)
        await env.telegram.stars.pay(other, invoice, now=time.time() - month - 60)
        await env.wait_replies(4, other)
        refused = await _say(env, "second question", 5, other)
        assert refused.startswith("You have used your daily quota of 30 tokens.")
        assert "Subscription" not in await _say(env, "/usage", 6, other)


async def test_a_payment_whose_update_was_lost_in_a_crash_is_credited_at_the_restart(
    tmp_path: Path,
) -> None:
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        settings = make_settings(telegram, gonka, **{**SALE, "data_dir": tmp_path})
        async with _polling(telegram, gonka, settings) as env:
            invoice = await _buy(env, 1)
            assert (await telegram.stars.pre_checkout(USER, invoice)).ok
        # Telegram charged the user, but the bot took the update and died before the credit.
        charge, _ = await telegram.stars.successful_payment(USER, invoice, deliver=False)
        async with _polling(telegram, gonka, settings) as env:
            await env.wait_replies(3)
            assert env.visible_texts()[-1] == (
                "Thank you! 100,000 tokens added. Your paid balance: 100,000 tokens."
            )
            usage = await _say(env, "/usage", 4)
        async with _polling(telegram, gonka, settings) as env:  # nothing credited again
            again = await _say(env, "/usage", 5)
    assert "Paid tokens left: 100,000 tokens" in usage and charge in usage
    assert "Paid tokens left: 100,000 tokens" in again and again.count(charge) == 1
    assert len(telegram.calls_of("getStarTransactions")) == 3


@contextlib.asynccontextmanager
async def _polling(
    telegram: FakeTelegramServer, gonka: FakeGonka, settings: Settings
) -> AsyncIterator[Env]:
    """The bot polling the fake servers; they outlive it, as across a restart."""
    app = build_app(settings)
    started = len(telegram.calls_of("deleteWebhook"))
    task = asyncio.create_task(app.run_polling(polling_timeout=1, handle_signals=False))
    try:
        await telegram.wait_for(lambda: len(telegram.calls_of("deleteWebhook")) > started, 5)
        yield Env(telegram, gonka, app)
    finally:
        await app.dispatcher.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
        await app.close()


async def test_paid_usage_does_not_count_against_the_free_monthly_quota(
    make_env: EnvFactory,
) -> None:
    async with make_env(**{**SALE, "monthly_token_quota": 1000}) as env:
        env.gonka.enqueue(Reply(text="A fairly long answer that uses up the whole daily quota."))
        await _say(env, "first question", 1)
        before = await _say(env, "/usage", 2)
        month = next(line for line in before.splitlines() if "this month" in line)
        invoice = await _buy(env, 3)
        await env.telegram.stars.pay(USER, invoice)
        await env.wait_replies(5)
        assert await _say(env, "second question", 6) == "Echo: second question"
        after = await _say(env, "/usage", 7)
        assert "Paid tokens left: 99," in after
        assert month in after.splitlines()  # the paid turn left the free month as it was
