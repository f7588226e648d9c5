"""Who administers a group, as Telegram says (getChatMember), remembered for a few minutes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiogram import Bot
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError

from bot.telegram.bot_api import api_error

log = logging.getLogger(__name__)

ADMIN_STATUSES = frozenset({ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR})


class ChatAdmins:
    """A group's creator and administrators may reset its history and choose its model, system
    prompt and context. Answers are cached: one Bot API call, not one a command; a "no" for a
    shorter time, so a newly promoted admin is not kept waiting long."""

    def __init__(
        self,
        bot: Bot,
        ttl: float = 120.0,
        no_ttl: float = 20.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bot = bot
        self._ttl = ttl
        self._no_ttl = no_ttl
        self._max_entries = max_entries
        self._clock = clock
        self._known: dict[tuple[int, int], tuple[bool, float]] = {}

    async def of(self, chat_id: int, user_id: int, sender_chat_id: int | None = None) -> bool:
        """True when `user_id` administers the group `chat_id`. An anonymous admin writes as
        the group itself (`sender_chat_id`), so Telegram vouches for them."""
        if sender_chat_id is not None:
            # Posting as a chat: the group itself (an anonymous admin), else a channel, whose
            # sender is Telegram's Channel_Bot and no admin of anything.
            return sender_chat_id == chat_id
        return await self.is_admin(chat_id, user_id)

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        now = self._clock()
        known = self._known.get((chat_id, user_id))
        if known is not None and known[1] > now:
            return known[0]
        try:
            member = await self._bot.get_chat_member(chat_id, user_id)
        except TelegramAPIError as exc:
            # Not cached: a passing failure must not lock an admin out for minutes.
            log.warning("chat member not read chat=%s error=%s", chat_id, api_error(exc))
            return False
        admin = member.status in ADMIN_STATUSES
        if len(self._known) >= self._max_entries:
            fresh = sorted((v[1], k) for k, v in self._known.items() if v[1] > now)
            keep = {k for _, k in fresh[-(self._max_entries // 2) :]}  # the newest half
            self._known = {k: v for k, v in self._known.items() if k in keep}
        self._known[(chat_id, user_id)] = (admin, now + (self._ttl if admin else self._no_ttl))
        return admin
