"""What is for sale and the invoices' payloads: parsed strictly, recognised byte for byte."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.config import Settings, config_error
from bot.core.payments import Catalog, Offer, Pack, PayloadSigner, parse_packs

KEY = b"k" * 32
PACK = Pack(100000, 25)


def test_packs_parse_and_bad_values_say_why() -> None:
    assert parse_packs(" 100000:25, 1000000:200 ,") == (PACK, Pack(1000000, 200))
    assert parse_packs("") == ()
    for bad, reason in (
        ("100000", "not tokens:stars"),
        ("100000:x", "not tokens:stars"),
        ("-5:25", "not tokens:stars"),
        ("0:25", "above 0"),
        ("100:0", "from 1 to 10000"),
        ("100:10001", "from 1 to 10000"),
        ("100:1,100:1", "twice"),
    ):
        with pytest.raises(ValueError, match=reason):
            parse_packs(bad)


def test_a_payload_is_recognised_only_byte_for_byte() -> None:
    catalog = Catalog((PACK,), Pack(300000, 150), KEY)
    payload = catalog.offer("p", 7, PACK)
    assert payload is not None and len(payload.encode()) <= 128
    assert catalog.pre_checkout(7, payload, "XTR", 25) == ""
    assert catalog.pre_checkout(8, payload, "XTR", 25) == "pay_refused_invalid"  # another user
    assert catalog.pre_checkout(7, payload, "XTR", 1) == "pay_refused_invalid"  # another price
    assert catalog.pre_checkout(7, payload, "USD", 25) == "pay_refused_invalid"
    assert catalog.pre_checkout(7, payload + " ", "XTR", 25) == "pay_refused_invalid"
    forged = payload.replace("|25|", "|1|")
    assert catalog.pre_checkout(7, forged, "XTR", 1) == "pay_refused_invalid"
    other_key = Catalog((PACK,), None, b"x" * 32).offer("p", 7, PACK)
    assert other_key is not None and catalog.pre_checkout(7, other_key, "XTR", 25)
    assert catalog.offer("p", 7, Pack(1, 1)) is None  # not on sale: no invoice
    assert catalog.offer("s", 7, PACK) is None  # a pack is not the subscription


@pytest.mark.parametrize(
    "hostile", ["", "|", "||||||", "v1|p|7|1|1|00|" + "0" * 32, "x" * 100_000, "\x00" * 200]
)
def test_hostile_payloads_are_refused_not_crashed_on(hostile: str) -> None:
    catalog = Catalog((PACK,), None, KEY)
    assert catalog.pre_checkout(7, hostile, "XTR", 25) == "pay_refused_invalid"
    assert catalog.paid(7, hostile, 25) is None


def test_a_pack_taken_off_sale_is_told_as_changed() -> None:
    payload = Catalog((PACK,), None, KEY).offer("p", 7, PACK)
    assert payload is not None
    now = Catalog((Pack(100000, 30),), None, KEY)
    assert now.pre_checkout(7, payload, "XTR", 25) == "pay_refused_changed"
    paid = now.paid(7, payload, 25)  # paid anyway: what was paid for is credited
    assert paid is not None and paid.pack == PACK


def test_a_signed_payload_reads_back_its_offer() -> None:
    signer = PayloadSigner(KEY)
    offer = Offer("s", 12345678901, Pack(300000, 150))
    payload = signer.issue(offer)
    assert signer.read(payload) == offer
    assert signer.issue(offer) != payload  # a nonce: each invoice its own payload


def test_a_bad_star_setting_is_one_start_up_line_naming_it() -> None:
    base = {"bot_token": "123:abc", "gonka_api_key": "k"}
    for name, value in (("star_packs", "100000:x"), ("star_subscription", "1:1,2:2")):
        with pytest.raises(ValidationError) as caught:
            Settings(_env_file=None, **base, **{name: value})  # type: ignore[arg-type]
        text = config_error(caught.value)
        assert text.startswith(f"Invalid configuration: {name.upper()}: ") and "\n" not in text
    settings = Settings(_env_file=None, **base, star_subscription="300000:150")  # type: ignore[arg-type]
    assert settings.star_subscription == Pack(300000, 150) and settings.star_packs == ()
