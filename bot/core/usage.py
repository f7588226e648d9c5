"""Usage arithmetic: cost at a per-million-token price."""

from __future__ import annotations

from decimal import Decimal

from bot.core.models import Usage


def cost(usage: Usage, price_per_million: float) -> Decimal:
    """Cost in dollars; prompt and completion tokens are priced the same (Gonka's pricing)."""
    return Decimal(usage.total_tokens) * Decimal(str(price_per_million)) / Decimal(1_000_000)
