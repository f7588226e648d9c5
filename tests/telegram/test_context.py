"""The context middleware: every handler gets the Turn, the language and the caller's rights;
Telegram is asked whether the caller administers the group only when a handler needs it."""

from __future__ import annotations

from typing import Any

from aiogram.types import Chat, TelegramObject, Update

from bot.core.access import AccessPolicy, Gate
from bot.telegram.context import ContextMiddleware, Rights
from bot.telegram.turn import Turn
from tests.fakes import MemoryAccess, MemoryUsage
from tests.telegram.helpers import ALICE, BOB, GROUP, message, press

ADMIN = 1


class Admins:
    def __init__(self, admins: set[tuple[int, int]]) -> None:
        self.admins = admins
        self.asked = 0

    async def of(self, chat_id: int, user_id: int, sender_chat_id: int | None = None) -> bool:
        self.asked += 1
        if sender_chat_id is not None:
            return sender_chat_id == chat_id
        return (chat_id, user_id) in self.admins


async def _context(event: TelegramObject, admins: Admins) -> dict[str, Any]:
    gate = Gate(AccessPolicy(admins=frozenset({ADMIN})), MemoryAccess(), MemoryUsage())
    middleware = ContextMiddleware(gate, admins)  # type: ignore[arg-type]
    assert isinstance(event, Update)
    user = (event.callback_query or event.message).from_user  # type: ignore[union-attr]
    data: dict[str, Any] = {"event_from_user": user}

    async def handler(_: TelegramObject, given: dict[str, Any]) -> dict[str, Any]:
        return given

    result: dict[str, Any] = await middleware(handler, event, data)
    return result


async def test_a_group_message_gives_its_turn_and_language() -> None:
    data = await _context(Update(update_id=1, message=message()), Admins(set()))
    turn: Turn = data["turn"]
    assert (turn.chat_id, turn.user_id, turn.private, turn.reply_to) == (GROUP, ALICE, False, 5)
    assert data["lang"] == "ru" and turn.lang == "ru"


async def test_a_press_is_the_pressers_turn_answered_to_them() -> None:
    data = await _context(press("cont:abc", user_id=BOB), Admins(set()))
    turn: Turn = data["turn"]
    assert (turn.chat_id, turn.user_id, turn.callback_query_id) == (GROUP, BOB, "q1")
    assert data["lang"] == "en"


async def test_telegram_is_asked_once_and_only_when_needed() -> None:
    admins = Admins({(GROUP, ALICE)})
    data = await _context(Update(update_id=1, message=message()), admins)
    assert admins.asked == 0  # nobody needed it yet
    rights: Rights = data["rights"]
    assert await rights.may("manage_chat") and await rights.may("pick_model")
    assert admins.asked == 1
    others = (await _context(press("mc:x", user_id=BOB), admins))["rights"]
    assert not await others.may("manage_chat")


async def test_private_chats_and_bot_admins_never_ask_telegram() -> None:
    admins = Admins(set())
    private = await _context(Update(update_id=1, message=message(ALICE, ALICE)), admins)
    assert await private["rights"].may("manage_chat")
    bot_admin = await _context(Update(update_id=1, message=message(user_id=ADMIN)), admins)
    assert await bot_admin["rights"].may("manage_chat") and await bot_admin["rights"].may(
        "bot_admin"
    )
    assert admins.asked == 0


async def test_an_anonymous_admin_posts_as_the_group() -> None:
    admins = Admins(set())
    group = Chat(id=GROUP, type="supergroup")
    data = await _context(Update(update_id=1, message=message(sender_chat=group)), admins)
    assert await data["rights"].may("manage_chat")
    channel = Chat(id=-100777, type="channel")
    data = await _context(Update(update_id=1, message=message(sender_chat=channel)), admins)
    assert not await data["rights"].may("manage_chat")


async def test_one_vocabulary_for_every_check_and_its_refusal() -> None:
    from bot.telegram.rights import Holds

    admins = Admins({(GROUP, ALICE)})
    group_admin = (await _context(Update(update_id=1, message=message()), admins))["rights"]
    member = (await _context(Update(update_id=1, message=message(user_id=BOB)), admins))["rights"]
    private = (await _context(Update(update_id=1, message=message(BOB, BOB)), admins))["rights"]
    bot_admin = await _context(Update(update_id=1, message=message(user_id=ADMIN)), admins)
    # The admin router's filter asks the same Rights as the handlers.
    only_admins = Holds("bot_admin")
    assert await only_admins(message(user_id=ADMIN), rights=bot_admin["rights"])
    assert not await only_admins(message(), rights=group_admin)
    assert not await only_admins(message())  # no chat, no rights: refused
    assert await Holds("group_admin")(message(), rights=group_admin)
    assert not await Holds("group_admin")(message(BOB, BOB), rights=private)
    assert await private.may("manage_chat") and not await member.may("manage_chat")
    assert [member.refusal(r) for r in ("bot_admin", "group_admin", "manage_chat")] == [
        "admins_only", "group_admins_only", "group_admins_only"]  # fmt: skip
    assert [private.refusal(r) for r in ("bot_admin", "group_admin", "pick_model")] == [
        "admins_only"] * 3  # fmt: skip


async def test_the_middleware_provides_what_it_declares() -> None:
    data = await _context(Update(update_id=1, message=message()), Admins(set()))
    assert set(data) - {"event_from_user"} == set(ContextMiddleware.provides)
    assert all(isinstance(data[k], t) for k, t in ContextMiddleware.provides.items())
