"""ChatAdmins: Telegram is asked once, a "yes" is remembered longer than a "no", errors never."""

from __future__ import annotations

from types import SimpleNamespace

from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import GetChatMember

from bot.telegram.chat_admins import ChatAdmins


class _Bot:
    def __init__(self) -> None:
        self.statuses: dict[int, str] = {}
        self.asked = 0
        self.down = False

    async def get_chat_member(self, chat_id: int, user_id: int) -> SimpleNamespace:
        self.asked += 1
        if self.down:
            raise TelegramNetworkError(GetChatMember(chat_id=chat_id, user_id=user_id), "timeout")
        return SimpleNamespace(status=self.statuses.get(user_id, "member"))


async def test_answers_are_cached_a_yes_longer_than_a_no() -> None:
    bot, now = _Bot(), [0.0]
    admins = ChatAdmins(bot, ttl=120, no_ttl=20, clock=lambda: now[0])  # type: ignore[arg-type]
    bot.statuses[1] = "administrator"
    assert await admins.is_admin(-5, 1) and not await admins.is_admin(-5, 2)
    bot.statuses[2] = "creator"  # promoted meanwhile
    now[0] = 19.0
    assert await admins.is_admin(-5, 1) and not await admins.is_admin(-5, 2)
    assert bot.asked == 2
    now[0] = 21.0
    assert await admins.is_admin(-5, 2)  # the "no" has expired
    bot.statuses[1] = "member"  # demoted: the "yes" holds until its time is up
    assert await admins.is_admin(-5, 1)
    now[0] = 121.0
    assert not await admins.is_admin(-5, 1)


async def test_a_failed_lookup_is_a_no_that_is_not_remembered() -> None:
    bot = _Bot()
    admins = ChatAdmins(bot)  # type: ignore[arg-type]
    bot.statuses[1], bot.down = "administrator", True
    assert not await admins.is_admin(-5, 1)
    bot.down = False
    assert await admins.is_admin(-5, 1)
    assert bot.asked == 2


async def test_the_cache_stays_bounded() -> None:
    bot = _Bot()
    admins = ChatAdmins(bot, max_entries=10)  # type: ignore[arg-type]
    for user in range(1, 40):
        await admins.is_admin(-5, user)
    assert len(admins._known) <= 10
