"""AdminAlerts through Telegram: a private message to each of ADMIN_IDS, at most once per
interval per kind of failure. Who sent what when is an AlertLedger: in this process, or in
Redis (bot/adapters/redis_alerts.py) so that replicas share it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Literal, Protocol

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.telegram.bot_api import api_error
from bot.telegram.texts import t

log = logging.getLogger(__name__)

# A failed attempt (no admin reachable: none has started the bot, Telegram down) is not
# repeated for this long, so a failing upstream does not turn into a Bot API call per turn.
RETRY_AFTER_FAILURE = 300.0
# How long a sender holds its claim while it sends (its Bot API calls are bounded by this).
SENDING_HOLD = 60.0
SEND_TIMEOUT = 10

_KEYS = {"auth": "admin_alert_auth", "balance": "admin_alert_balance", "store": "admin_alert_store"}

Claim = Literal["send", "told", "untold"]


class AlertLedger(Protocol):
    async def claim(self, kind: str, hold: float) -> Claim:
        """ "send": this caller sends now (others are held off for `hold` s); "told": an alert
        was delivered within the interval; "untold": one is being sent or recently failed."""

    async def settle(self, kind: str, delivered: bool, keep: float) -> None:
        """Record the outcome of a send for `keep` seconds."""


class MemoryLedger:
    """The ledger of one process (without Redis there is one process)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[str, tuple[Claim, float]] = {}  # kind -> (state, until)

    async def claim(self, kind: str, hold: float) -> Claim:
        now = self._clock()
        state, until = self._entries.get(kind, ("send", 0.0))
        if now < until:
            return "told" if state == "told" else "untold"
        self._entries[kind] = ("untold", now + hold)
        return "send"

    async def settle(self, kind: str, delivered: bool, keep: float) -> None:
        self._entries[kind] = ("told" if delivered else "untold", self._clock() + keep)


class TelegramAdminAlerts:
    """Tells the bot's admins that the upstream refuses the bot (wrong key, no balance), or
    that the embedded store cannot save to DATA_DIR ("store")."""

    def __init__(
        self,
        bot: Bot,
        admins: Iterable[int],
        interval: float = 3600.0,
        ledger: AlertLedger | None = None,
    ) -> None:
        self._bot = bot
        self._admins = sorted(admins)
        self._interval = interval
        self._ledger = ledger or MemoryLedger()

    async def upstream_failed(self, kind: str) -> bool:
        """Message every admin about `kind` unless that was done within the interval; True
        when at least one admin got it (now or within the interval)."""
        key = _KEYS.get(kind)
        if key is None or not self._admins:
            return False
        try:
            claim = await self._ledger.claim(kind, SENDING_HOLD)
        except Exception as exc:  # the ledger's store is down: nobody was told
            log.warning("admin alert ledger unavailable error=%s", type(exc).__name__)
            return False
        if claim != "send":
            return claim == "told"
        text = f"{t(key, 'en')}\n{t(key, 'ru')}"
        delivered = [admin for admin in self._admins if await self._send(admin, text)]
        keep = self._interval if delivered else RETRY_AFTER_FAILURE
        try:
            await self._ledger.settle(kind, bool(delivered), keep)
        except Exception as exc:
            log.warning("admin alert not recorded error=%s", type(exc).__name__)
        log.warning("admins alerted kind=%s delivered=%d", kind, len(delivered))
        return bool(delivered)

    async def _send(self, admin: int, text: str) -> bool:
        try:
            await self._bot.send_message(admin, text, request_timeout=SEND_TIMEOUT)
        except TelegramAPIError as exc:
            log.warning("admin alert not delivered admin=%s error=%s", admin, api_error(exc))
            return False
        except (TimeoutError, OSError) as exc:
            log.warning("admin alert not delivered admin=%s error=%s", admin, type(exc).__name__)
            return False
        return True
