"""AdminAlerts through Telegram: a private message to each of ADMIN_IDS, at most once an hour
per kind of failure, remembered in this process (each replica tells the admins on its own)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.telegram.texts import t

log = logging.getLogger(__name__)

# A failed attempt (no admin reachable: none has started the bot, Telegram down) is not
# repeated for this long, so a failing upstream does not turn into a Bot API call per turn.
RETRY_AFTER_FAILURE = 300.0
SEND_TIMEOUT = 10

_KEYS = {"auth": "admin_alert_auth", "balance": "admin_alert_balance"}


class TelegramAdminAlerts:
    """Tells the bot's admins that the upstream refuses the bot (wrong key, no balance)."""

    def __init__(
        self,
        bot: Bot,
        admins: Iterable[int],
        interval: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bot = bot
        self._admins = sorted(admins)
        self._interval = interval
        self._clock = clock
        self._sent: dict[str, float] = {}
        self._failed: dict[str, float] = {}
        self._lock = asyncio.Lock()

    def _recent(self, kind: str) -> bool | None:
        now = self._clock()
        sent = self._sent.get(kind)
        if sent is not None and now - sent < self._interval:
            return True
        failed = self._failed.get(kind)
        if failed is not None and now - failed < RETRY_AFTER_FAILURE:
            return False
        return None

    async def upstream_failed(self, kind: str) -> bool:
        """Message every admin about `kind` unless that was done within the interval; True
        when at least one admin got it (now or within the interval)."""
        key = _KEYS.get(kind)
        if key is None or not self._admins:
            return False
        recent = self._recent(kind)
        if recent is not None:
            return recent
        async with self._lock:  # turns failing at once send one message, not one each
            recent = self._recent(kind)
            if recent is not None:
                return recent
            text = f"{t(key, 'en')}\n{t(key, 'ru')}"
            delivered = [admin for admin in self._admins if await self._send(admin, text)]
            (self._sent if delivered else self._failed)[kind] = self._clock()
            log.warning("admins alerted kind=%s delivered=%d", kind, len(delivered))
            return bool(delivered)

    async def _send(self, admin: int, text: str) -> bool:
        try:
            await self._bot.send_message(admin, text, request_timeout=SEND_TIMEOUT)
        except TelegramAPIError as exc:
            log.warning("admin alert not delivered admin=%s error=%s", admin, exc.message)
            return False
        except (TimeoutError, OSError) as exc:
            log.warning("admin alert not delivered admin=%s error=%s", admin, type(exc).__name__)
            return False
        return True
