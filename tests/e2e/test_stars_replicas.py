"""Stars payments with two replicas behind one webhook URL sharing the real Redis, then a
restart: every payment credited exactly once, none lost."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.conftest import REAL_REDIS_URL
from tests.doubles.fake_gonka import FakeGonka
from tests.doubles.fake_telegram import FakeTelegramServer
from tests.e2e.conftest import running_env
from tests.e2e.webhook_apps import free_port, round_robin, webhook_app

USER = 5006
CONFIRMED = "Thank you! 100,000 tokens added. Your paid balance: {balance} tokens."


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    client = Redis.from_url(REAL_REDIS_URL, socket_connect_timeout=0.5)
    try:
        await client.ping()
    except Exception:
        await client.aclose()
        pytest.skip(f"no Redis server at {REAL_REDIS_URL}: replicas need a shared Redis")
    name = f"test-{uuid.uuid4().hex[:10]}"
    yield name
    keys = [key async for key in client.scan_iter(match=f"{name}:*", count=500)]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def _texts(telegram: FakeTelegramServer, count: int) -> list[str]:
    await telegram.wait_for(lambda: len(telegram.bot_messages(USER)) >= count, 15)
    await asyncio.sleep(0.2)  # nothing more comes
    return [m.text or "" for m in telegram.bot_messages(USER)]


async def test_two_replicas_and_a_restart_credit_each_payment_once(prefix: str) -> None:
    shared = {"redis_url": REAL_REDIS_URL, "redis_key_prefix": prefix, "star_packs": "100000:25"}
    ports = [free_port(), free_port()]
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        async with (
            round_robin(ports) as url,
            webhook_app(telegram, gonka, url, ports[0], **shared),
            webhook_app(telegram, gonka, url, ports[1], **shared),
        ):
            await telegram.wait_for(lambda: len(telegram.calls_of("setWebhook")) == 2)
            for call in telegram.calls_of("setWebhook"):  # the webhook asks for payments too
                assert "pre_checkout_query" in call.params["allowed_updates"]
                assert "message" in call.params["allowed_updates"]  # successful_payment
            await telegram.send_text(USER, "/buy", user_id=USER)
            assert "100,000 tokens for 25 Stars" in (await _texts(telegram, 1))[-1]
            message = telegram.bot_messages(USER)[-1]
            data = message.reply_markup["inline_keyboard"][0][0]["callback_data"]  # type: ignore[index]
            await telegram.press_button(USER, message.message_id, data, user_id=USER)
            await telegram.wait_for(lambda: telegram.stars.invoices)
            invoice = telegram.stars.last_invoice(USER)
            first = await telegram.stars.pay(
                USER, invoice
            )  # pre-checkout on one, payment on the other
            assert first.ok is True
            await _texts(telegram, 3)
            # Telegram sends the payment again: to the other replica, and under a new update id.
            await telegram.redeliver(first.update_id)
            update = next(u for u in telegram.delivered if u["update_id"] == first.update_id)
            await telegram.raw_update({"message": update["message"]})
            second = await telegram.stars.pay(USER, invoice)  # the same invoice paid again
            texts = await _texts(telegram, 4)
        assert texts[2:] == [
            CONFIRMED.format(balance="100,000"),
            CONFIRMED.format(balance="200,000"),
        ]

        # A restart: the ledger is where it was, and a payment delivered again is not counted.
        port = free_port()
        async with webhook_app(
            telegram, gonka, f"http://127.0.0.1:{port}/telegram/webhook", port, **shared
        ):
            await telegram.raw_update({"message": update["message"]})
            await telegram.send_text(USER, "/usage", user_id=USER)
            usage = (await _texts(telegram, 5))[-1]
    assert "Paid tokens left: 200,000 tokens" in usage
    assert usage.count(first.charge_id) == 1 and usage.count(second.charge_id) == 1


async def test_a_payment_update_taken_by_a_crashed_replica_is_credited_when_sent_again(
    prefix: str,
) -> None:
    """A replica admitted the update (its seen mark is in Redis) and died before the credit;
    Telegram sends it again: a payment is not dropped as a duplicate, the ledger keys it."""
    shared = {"redis_url": REAL_REDIS_URL, "redis_key_prefix": prefix, "star_packs": "100000:25"}
    async with running_env(**shared) as env:
        await env.telegram.send_text(USER, "/buy", user_id=USER)
        await env.wait_replies(1, USER)
        message = env.telegram.bot_messages(USER)[-1]
        data = message.reply_markup["inline_keyboard"][0][0]["callback_data"]  # type: ignore[index]
        await env.telegram.press_button(USER, message.message_id, data, user_id=USER)
        await env.telegram.wait_for(lambda: env.telegram.stars.invoices)
        invoice = env.telegram.stars.last_invoice(USER)
        assert (await env.telegram.stars.pre_checkout(USER, invoice)).ok
        charge, _ = await env.telegram.stars.successful_payment(USER, invoice, deliver=False)
        update_id = 987_654
        assert await env.app.order.admit(update_id, USER)  # the crashed replica took it
        payment = {"currency": "XTR", "total_amount": 25, "invoice_payload": invoice.payload,
                   "telegram_payment_charge_id": charge, "provider_payment_charge_id": ""}  # fmt: skip
        user = {"id": USER, "is_bot": False, "first_name": "Test User", "language_code": "en"}
        chat = {"id": USER, "type": "private", "first_name": "Test User"}
        await env.telegram.raw_update({
            "update_id": update_id,
            "message": {"message_id": 900, "date": int(time.time()), "chat": chat, "from": user,
                        "successful_payment": payment},
        })  # fmt: skip
        await env.wait_replies(3, USER)
        assert env.visible_texts(USER)[-1] == CONFIRMED.format(balance="100,000")
