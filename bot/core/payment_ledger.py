"""The payments of a bot that sells usage for Stars: a successful payment credited once, the
wallet and the history a user sees, an admin's refund."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.core.payments import (
    SUBSCRIPTION_PERIOD,
    Catalog,
    Offer,
    Payment,
    PaymentStore,
    Refund,
    StarTotals,
    Wallet,
)

TYPICAL_ANSWER_TOKENS = 2000  # a question with some history and an answer of a few paragraphs


@dataclass(frozen=True, slots=True)
class Credit:
    """A successful payment as the ledger took it: `wallet` None when it was taken before (a
    redelivered update, another replica); `offer` None when it paid for no offer of this bot
    (recorded with no tokens)."""

    offer: Offer | None
    wallet: Wallet | None
    until: float = 0.0


class PaymentLedger:
    """Payments in, tokens credited, refunds out: every step keyed by Telegram's charge id."""

    def __init__(
        self, catalog: Catalog, store: PaymentStore, clock: Callable[[], datetime]
    ) -> None:
        self.catalog = catalog
        self._store = store
        self._clock = clock

    async def paid(
        self, user_id: int, payload: str, stars: int, charge_id: str, expires: float | None
    ) -> Credit:
        """Record a successful payment and credit what it paid for, once per charge id.
        `expires`: a subscription payment's period end (epoch seconds), as Telegram gives it."""
        now = self._clock()
        offer = self.catalog.paid(user_id, payload, stars)
        kind = offer.kind if offer is not None else "p"
        tokens = offer.pack.tokens if offer is not None else 0
        until = 0.0
        if kind == "s":
            until = expires or now.timestamp() + SUBSCRIPTION_PERIOD
        payment = Payment(charge_id, user_id, kind, tokens, stars, now, until=until)
        wallet = await self._store.credit(payment, now.timestamp())
        return Credit(offer, wallet, until)

    async def wallet(self, user_id: int) -> Wallet:
        """The user's paid tokens now."""
        return await self._store.wallet(user_id, self._clock().timestamp())

    async def payments(self, user_id: int, limit: int) -> list[Payment]:
        """The user's payments, newest first (0: all)."""
        return await self._store.payments(user_id, limit)

    async def owner(self, charge_id: str) -> int | None:
        """Who paid the charge (None: no such payment recorded)."""
        return await self._store.owner(charge_id)

    async def refunded(self, user_id: int, charge_id: str) -> Refund:
        """Record a refund Telegram made (or had made before): debit what is left of it, once."""
        return await self._store.refund(user_id, charge_id)

    async def payment(self, user_id: int, charge_id: str) -> Payment | None:
        """One recorded payment of the user."""
        found = [p for p in await self._store.payments(user_id, 0) if p.charge_id == charge_id]
        return found[0] if found else None

    async def totals(self) -> StarTotals:
        """Stars received and refunded, paid tokens used."""
        return await self._store.totals()

    async def synced(self) -> int:
        """How many of the bot's Star transactions were checked against the ledger."""
        return await self._store.synced()

    async def mark_synced(self, count: int) -> None:
        """The first `count` Star transactions are in the ledger."""
        await self._store.mark_synced(count)
