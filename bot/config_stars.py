"""Settings of selling usage for Telegram Stars (a mixin of Settings)."""

from __future__ import annotations

from typing import Annotated

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode

from bot.core.payments import Pack, parse_packs


class StarsSettings(BaseSettings):
    """STAR_PACKS, STAR_SUBSCRIPTION, PAY_SUPPORT_TEXT, TERMS_TEXT."""

    # Token packs for sale, tokens:stars, comma-separated (empty: none), e.g. 100000:25,1000000:200.
    star_packs: Annotated[tuple[Pack, ...], NoDecode] = ()
    # A monthly subscription, tokens per 30 days:stars per month (empty: none), e.g. 300000:150.
    star_subscription: Annotated[Pack | None, NoDecode] = None
    pay_support_text: str = (
        "Questions about a payment? Write to the bot's operator; include the charge id shown "
        "by /usage payments."
    )
    terms_text: str = (
        "Tokens bought are spent only after the free quota is used up and do not expire. "
        "A subscription's tokens last until its period ends. Refunds are at the operator's "
        "discretion, for tokens not yet used."
    )

    @field_validator("star_packs", mode="before")
    @classmethod
    def _parse_packs(cls, value: object) -> object:
        return parse_packs(value) if isinstance(value, str) else value

    @field_validator("star_subscription", mode="before")
    @classmethod
    def _parse_subscription(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        packs = parse_packs(value)
        if len(packs) > 1:
            raise ValueError("one tokens:stars pair (for example 300000:150)")
        return packs[0] if packs else None
