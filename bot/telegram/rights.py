"""Rights: the one vocabulary of permission checks (core.access.Right), asked of one update's
caller. Handlers check with `allowed` (a refused user is told why); a router of bot-admin
commands filters with `Holds("bot_admin")`; a button answers with `refusal` in an alert."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from bot.core.access import Gate, Right
from bot.telegram.chat_admins import ChatAdmins
from bot.telegram.notices import Notices
from bot.telegram.texts import t
from bot.telegram.turn import Turn


class Rights:
    """What the caller may do in this chat. Telegram is asked whether they administer the
    group at most once an update, and never in a private chat or for a bot admin."""

    def __init__(
        self, turn: Turn, gate: Gate, chat_admins: ChatAdmins, sender_chat_id: int | None
    ) -> None:
        self._turn = turn
        self._gate = gate
        self._chat_admins = chat_admins
        self._sender_chat_id = sender_chat_id
        self._group_admin: bool | None = None

    async def may(self, right: Right) -> bool:
        turn = self._turn
        group_admin = right != "bot_admin" and await self._is_group_admin()
        return self._gate.may(right, turn.user_id, turn.private, group_admin)

    def refusal(self, right: Right) -> str:
        """The text key telling a refused caller who may: the bot's admins (a bot-admin right,
        or any right refused in a private chat) or the group's."""
        return "admins_only" if right == "bot_admin" or self._turn.private else "group_admins_only"

    async def _is_group_admin(self) -> bool:
        turn = self._turn
        if turn.private or self._gate.is_admin(turn.user_id):
            return False
        if self._group_admin is None:
            self._group_admin = await self._chat_admins.of(
                turn.chat_id, turn.user_id, self._sender_chat_id
            )
        return self._group_admin


async def allowed(right: Right, rights: Rights, turn: Turn, notices: Notices) -> bool:
    """Whether the caller holds `right`; a refused caller is told who may."""
    if await rights.may(right):
        return True
    await notices.notify(turn, t(rights.refusal(right), turn.lang))
    return False


class Holds(Filter):
    """A router's filter: the caller holds `right` (the update has a chat: `rights` is set)."""

    def __init__(self, right: Right) -> None:
        self._right = right

    async def __call__(self, event: TelegramObject, rights: Rights | None = None) -> bool:
        return rights is not None and await rights.may(self._right)
