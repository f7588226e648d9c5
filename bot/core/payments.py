"""Selling tokens for Telegram Stars: the packs on sale, the invoices' signed payloads, the
check before a payment (pre-checkout) and the ledger of payments and refunds.

Money is a ledger: a payment is credited once, keyed by Telegram's charge id, in one atomic
step of the store (a redelivered update, a second replica or a restart cannot count it twice).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

CURRENCY = "XTR"
SUBSCRIPTION_PERIOD = 30 * 86400  # the only period Telegram allows for Stars subscriptions
PAYLOAD_VERSION = "v1"
OfferKind = Literal["p", "s"]  # p: a pack of tokens that never expire; s: a 30-day subscription


@dataclass(frozen=True, slots=True)
class Pack:
    """Tokens sold for Stars."""

    tokens: int
    stars: int


def parse_packs(text: str) -> tuple[Pack, ...]:
    """`100000:25,1000000:200` (tokens:stars, comma-separated) as packs; ValueError when bad."""
    packs = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        tokens, colon, stars = item.partition(":")
        if not colon or not tokens.strip().isdigit() or not stars.strip().isdigit():
            raise ValueError(f"{item!r} is not tokens:stars (for example 100000:25)")
        pack = Pack(int(tokens), int(stars))
        if pack.tokens < 1 or not 1 <= pack.stars <= 10000:
            raise ValueError(f"{item!r}: tokens must be above 0 and Stars from 1 to 10000")
        packs.append(pack)
    if len(set(packs)) != len(packs):
        raise ValueError("the same pack is listed twice")
    return tuple(packs)


@dataclass(frozen=True, slots=True)
class Offer:
    """What an invoice sells to whom: read back from its payload."""

    kind: OfferKind
    user_id: int
    pack: Pack


class PayloadSigner:
    """Invoice payloads the bot can recognise byte for byte: the offer, a nonce and an HMAC.
    Any replica with the same key verifies them; nothing needs to be stored per invoice."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, offer: Offer) -> str:
        """A payload for `offer` (at most 128 bytes, as Telegram allows)."""
        pack = offer.pack
        body = "|".join(
            (PAYLOAD_VERSION, offer.kind, str(offer.user_id), str(pack.tokens), str(pack.stars),
             secrets.token_hex(4))
        )  # fmt: skip
        return f"{body}|{self._sign(body)}"

    def read(self, payload: str) -> Offer | None:
        """The offer of a payload this bot issued; None for anything else."""
        body, _, signature = payload.rpartition("|")
        if not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            return None
        version, kind, user, tokens, stars, _nonce = body.split("|")
        if version != PAYLOAD_VERSION or kind not in ("p", "s"):
            return None
        return Offer("s" if kind == "s" else "p", int(user), Pack(int(tokens), int(stars)))


@dataclass(frozen=True, slots=True)
class Payment:
    """One successful payment as the ledger records it."""

    charge_id: str
    user_id: int
    kind: OfferKind
    tokens: int
    stars: int
    at: datetime
    refunded: bool = False
    until: float = 0.0  # a subscription's end (epoch seconds), 0 for a pack


@dataclass(frozen=True, slots=True)
class Wallet:
    """A user's paid tokens: packs' (never expire) and a live subscription's allowance."""

    balance: int
    subscription: int = 0
    until: float = 0.0  # epoch seconds; the subscription's allowance is gone after it

    @property
    def total(self) -> int:
        return self.balance + self.subscription


@dataclass(frozen=True, slots=True)
class Refund:
    """What a refund did: "done", "already" (refunded before) or "unknown" (no such charge)."""

    status: Literal["done", "already", "unknown"]
    user_id: int = 0
    debited: int = 0
    balance: int = 0


@dataclass(frozen=True, slots=True)
class StarTotals:
    """The bot's Stars received and refunded, and the paid tokens its users spent."""

    received: int
    refunded: int
    paid_tokens_used: int


class PaymentStore(Protocol):
    async def credit(self, payment: Payment, now: float) -> Wallet | None:
        """Record the payment and credit its tokens, atomically and once per charge id;
        None when the charge was recorded before (nothing credited)."""

    async def owner(self, charge_id: str) -> int | None:
        """Who paid a recorded charge (None: unknown)."""

    async def refund(self, user_id: int, charge_id: str) -> Refund:
        """Mark the charge refunded and debit what is left of its tokens (never below zero),
        once; `already` when it was refunded before."""

    async def wallet(self, user_id: int, now: float) -> Wallet: ...

    async def payments(self, user_id: int, limit: int) -> list[Payment]:
        """The user's payments, newest first (limit 0: all)."""

    async def totals(self) -> StarTotals: ...

    async def synced(self) -> int:
        """How many of the bot's Star transactions (oldest first) were checked."""

    async def mark_synced(self, count: int) -> None: ...


class Catalog:
    """What is on sale: the packs and the subscription (if any), and the checks before and
    after a payment."""

    def __init__(self, packs: tuple[Pack, ...], subscription: Pack | None, key: bytes) -> None:
        self.packs = packs
        self.subscription = subscription
        self._signer = PayloadSigner(key)

    @property
    def for_sale(self) -> bool:
        return bool(self.packs) or self.subscription is not None

    def offer(self, kind: OfferKind, user_id: int, pack: Pack) -> str | None:
        """The payload of an invoice for a pack on sale; None when it is not on sale."""
        if not self._on_sale(kind, pack):
            return None
        return self._signer.issue(Offer(kind, user_id, pack))

    def _on_sale(self, kind: OfferKind, pack: Pack) -> bool:
        return pack in self.packs if kind == "p" else pack == self.subscription

    def pre_checkout(self, user_id: int, payload: str, currency: str, total: int) -> str:
        """ "" when the payment may go on; else the text key of the reason it may not: the
        payload was not issued by this bot for this user at this price, or the pack changed."""
        offer = self._signer.read(payload)
        if offer is None or offer.user_id != user_id:
            return "pay_refused_invalid"
        if currency != CURRENCY or total != offer.pack.stars:
            return "pay_refused_invalid"
        if not self._on_sale(offer.kind, offer.pack):
            return "pay_refused_changed"
        return ""

    def paid(self, user_id: int, payload: str, stars: int) -> Offer | None:
        """The offer a successful payment paid for (this bot's payload, this user, this price);
        None when it is not one (then nothing is credited, and support is to be asked)."""
        offer = self._signer.read(payload)
        if offer is None or offer.user_id != user_id or offer.pack.stars != stars:
            return None
        return offer
