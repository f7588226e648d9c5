"""Payments in Telegram Stars for the fake Bot API: sendInvoice, createInvoiceLink,
answerPreCheckoutQuery, refundStarPayment, getStarTransactions, and the user's side (a checkout:
the pre_checkout_query update, then, when the bot said ok, the successful_payment message).

Faithful to the Bot API: Stars invoices have currency XTR, no provider token (or an empty one)
and exactly one price; a subscription's period is 2592000 s; a pre-checkout query is answered at
most once and within 10 s ("query is too old..." otherwise); a second refund of a charge is
refused with CHARGE_ALREADY_REFUNDED, an unknown charge with CHARGE_NOT_FOUND.
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.doubles.fake_telegram_limits import bad_request

if TYPE_CHECKING:
    from tests.doubles.fake_telegram import FakeTelegramServer

Json = dict[str, Any]
PRE_CHECKOUT_TTL = 10.0
SUBSCRIPTION_PERIOD = 2592000
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


@dataclass
class Invoice:
    """An invoice the bot made: sent to a chat, or as a link."""

    chat_id: int | None
    title: str
    description: str
    payload: str
    stars: int
    subscription_period: int | None = None
    link: str = ""
    message_id: int = 0


@dataclass
class Checkout:
    """A user's attempt to pay an invoice: the bot's answer, and the payment if it went on."""

    query_id: str
    ok: bool | None = None
    error_message: str = ""
    charge_id: str = ""
    update_id: int = 0


@dataclass
class StarTransaction:
    charge_id: str
    user_id: int
    stars: int
    date: int
    payload: str = ""
    subscription_period: int | None = None
    lang: str | None = None
    refunded: bool = False


@dataclass
class FakeStars:
    """The Stars side of a FakeTelegramServer (its `stars` attribute)."""

    server: FakeTelegramServer
    invoices: list[Invoice] = field(default_factory=list)
    queries: dict[str, tuple[float, Json]] = field(default_factory=dict)
    answers: dict[str, Json] = field(default_factory=dict)
    transactions: list[StarTransaction] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(7_000_000_001))

    def install(self) -> None:
        for name, handler in (
            ("sendInvoice", self._m_send_invoice),
            ("createInvoiceLink", self._m_create_invoice_link),
            ("answerPreCheckoutQuery", self._m_answer_pre_checkout_query),
            ("refundStarPayment", self._m_refund_star_payment),
            ("getStarTransactions", self._m_get_star_transactions),
        ):
            self.server.register(name, handler)

    # ------------------------------------------------------------------ the bot's calls
    def _invoice(self, params: Json) -> Invoice:
        title, description = str(params.get("title") or ""), str(params.get("description") or "")
        payload = str(params.get("payload") or "")
        if not 1 <= len(title) <= 32:
            raise bad_request("INVOICE_TITLE_EMPTY" if not title else "INVOICE_TITLE_INVALID")
        if not 1 <= len(description) <= 255:
            raise bad_request("INVOICE_DESCRIPTION_EMPTY")
        if not 1 <= len(payload.encode()) <= 128:
            raise bad_request("INVOICE_PAYLOAD_INVALID")
        if params.get("currency") != "XTR":
            raise bad_request("CURRENCY_INVALID")
        if params.get("provider_token"):
            raise bad_request("PROVIDER_TOKEN_INVALID")  # Stars take no provider token
        prices = params.get("prices")
        if not isinstance(prices, list) or len(prices) != 1:
            raise bad_request("STARS_INVOICE_INVALID")  # Stars: exactly one price
        amount = prices[0].get("amount") if isinstance(prices[0], dict) else None
        if not isinstance(amount, int) or not 1 <= amount <= 10000:
            raise bad_request("STARS_INVOICE_INVALID")
        return Invoice(None, title, description, payload, amount)

    async def _m_send_invoice(self, params: Json) -> Json:
        state = self.server._target_chat(params)
        invoice = self._invoice(params)
        if params.get("subscription_period") is not None:
            raise bad_request("SUBSCRIPTION_PERIOD_INVALID")  # subscriptions are links only
        content = {"invoice": {"title": invoice.title, "description": invoice.description,
                               "start_parameter": "", "currency": "XTR",
                               "total_amount": invoice.stars}}  # fmt: skip
        msg = self.server._store(
            state, from_bot=True, sender=self.server.bot_user, text=None, entities=[],
            thread=None, is_topic=False, reply_to=None, media=content,
        )  # fmt: skip
        invoice.chat_id, invoice.message_id = int(state.chat["id"]), msg.message_id
        self.invoices.append(invoice)
        return self.server._message_json(msg)

    async def _m_create_invoice_link(self, params: Json) -> str:
        invoice = self._invoice(params)
        period = params.get("subscription_period")
        if period is not None and period != SUBSCRIPTION_PERIOD:
            raise bad_request("SUBSCRIPTION_PERIOD_INVALID")
        invoice.subscription_period = period
        invoice.link = f"https://t.me/$invoice{secrets.token_hex(6)}"
        self.invoices.append(invoice)
        return invoice.link

    async def _m_answer_pre_checkout_query(self, params: Json) -> bool:
        query_id = str(params.get("pre_checkout_query_id") or "")
        asked = self.queries.get(query_id)
        if asked is None or query_id in self.answers:
            raise bad_request(QUERY_TOO_OLD)
        if self.server.clock() - asked[0] > PRE_CHECKOUT_TTL:
            raise bad_request(QUERY_TOO_OLD)
        ok = params.get("ok")
        if not isinstance(ok, bool):
            raise bad_request("ok is required")
        if not ok and not params.get("error_message"):
            raise bad_request("ERROR_MESSAGE_EMPTY")
        self.answers[query_id] = params
        self.server._notify()
        return True

    def _transaction(self, params: Json) -> StarTransaction:
        charge = str(params.get("telegram_payment_charge_id") or "")
        user_id = params.get("user_id")
        found = [t for t in self.transactions if t.charge_id == charge and t.user_id == user_id]
        if not found:
            raise bad_request("CHARGE_NOT_FOUND")
        return found[0]

    async def _m_refund_star_payment(self, params: Json) -> bool:
        transaction = self._transaction(params)
        if transaction.refunded:
            raise bad_request("CHARGE_ALREADY_REFUNDED")
        transaction.refunded = True
        return True

    async def _m_get_star_transactions(self, params: Json) -> Json:
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        rows = []
        for t in self.transactions[offset : offset + min(max(limit, 1), 100)]:
            user = self.server._user(t.user_id, "Test User", None, t.lang)
            partner: Json = {"type": "user", "transaction_type": "invoice_payment",
                             "user": user, "invoice_payload": t.payload}  # fmt: skip
            if t.subscription_period is not None:
                partner["subscription_period"] = t.subscription_period
            rows.append({"id": t.charge_id, "amount": t.stars, "date": t.date, "source": partner})
            if t.refunded:
                refund = {"type": "user", "transaction_type": "invoice_payment", "user": user}
                rows.append({"id": t.charge_id, "amount": t.stars, "date": t.date,
                             "receiver": refund})  # fmt: skip
        return {"transactions": rows}

    # ------------------------------------------------------------------ the user's side
    async def pre_checkout(
        self, user_id: int, invoice: Invoice, *, payload: str | None = None, lang: str = "en"
    ) -> Checkout:
        """The user presses Pay: Telegram asks the bot (pre_checkout_query) and waits."""
        query_id = str(next(self._ids))
        query: Json = {
            "id": query_id,
            "from": self.server._user(user_id, "Test User", None, lang),
            "currency": "XTR",
            "total_amount": invoice.stars,
            "invoice_payload": invoice.payload if payload is None else payload,
        }
        self.queries[query_id] = (self.server.clock(), query)
        await self.server.raw_update({"pre_checkout_query": query})
        await self.server.wait_for(lambda: query_id in self.answers, PRE_CHECKOUT_TTL)
        answer = self.answers[query_id]
        return Checkout(query_id, bool(answer["ok"]), str(answer.get("error_message") or ""))

    async def pay(
        self,
        user_id: int,
        invoice: Invoice,
        *,
        payload: str | None = None,
        lang: str = "en",
        now: float | None = None,
    ) -> Checkout:
        """A whole payment: the pre-checkout, and the successful_payment when the bot said ok."""
        checkout = await self.pre_checkout(user_id, invoice, payload=payload, lang=lang)
        if checkout.ok:
            first = invoice.subscription_period is not None
            checkout.charge_id, checkout.update_id = await self.successful_payment(
                user_id, invoice, recurring=first, first_recurring=first, lang=lang, now=now
            )
        return checkout

    async def successful_payment(
        self,
        user_id: int,
        invoice: Invoice,
        *,
        recurring: bool = False,
        first_recurring: bool = False,
        lang: str = "en",
        now: float | None = None,
        deliver: bool = True,
    ) -> tuple[str, int]:
        """Telegram charges the user and tells the bot (a subscription's renewal comes like
        this too, with is_recurring and no pre-checkout); the charge id and the update id.
        `deliver=False`: the update is lost to the bot (it crashed after taking it), update id 0."""
        charge = f"stxCharge{secrets.token_hex(8)}"
        paid_at = int(now if now is not None else time.time())
        payment: Json = {
            "currency": "XTR",
            "total_amount": invoice.stars,
            "invoice_payload": invoice.payload,
            "telegram_payment_charge_id": charge,
            "provider_payment_charge_id": "",
        }
        if invoice.subscription_period is not None:
            payment["subscription_expiration_date"] = paid_at + invoice.subscription_period
            payment["is_recurring"] = recurring
            if first_recurring:
                payment["is_first_recurring"] = True
        self.transactions.append(
            StarTransaction(charge, user_id, invoice.stars, paid_at, invoice.payload,
                            invoice.subscription_period, lang)
        )  # fmt: skip
        if not deliver:
            return charge, 0
        message_id = await self.server._user_message(
            user_id, {"successful_payment": payment}, user_id=user_id, first_name="Test User",
            username=None, language_code=lang, chat_type="private", chat_title=None,
            message_thread_id=None, is_topic_message=False, reply_to_message_id=None,
        )  # fmt: skip
        update_id = max(
            u["update_id"]
            for u in self.server.delivered
            if u.get("message", {}).get("message_id") == message_id
            and u["message"]["chat"]["id"] == user_id
        )
        return charge, update_id

    def last_invoice(self, chat_id: int | None = None) -> Invoice:
        return [i for i in self.invoices if chat_id is None or i.chat_id == chat_id][-1]
