"""Handlers called directly with their context: presses checked before anything changes, the
one check before a chat's settings change, and the error handler's context."""

from __future__ import annotations

from typing import Any

from aiogram.types import Chat, ErrorEvent, Update, User

from bot.adapters.memory_signals import LocalSignals
from bot.core.access import Verdict
from bot.core.errors import StorageUnavailable
from bot.core.quota import QuotaLimits
from bot.telegram.buttons import StopButton
from bot.telegram.handlers.buttons import continue_in_turn, on_stop
from bot.telegram.handlers.errors import on_error
from bot.telegram.handlers.settings import cmd_context
from bot.telegram.runtime.running import Running
from bot.telegram.stopping import Stopping
from bot.telegram.turn import Turn
from tests.telegram.helpers import ALICE, BOB, GROUP, KeyboardMessage, Notes, Query, message

TURN = Turn(GROUP, False, None, BOB, "en", reply_to=5)


class Gatekeeper:
    def __init__(self, admit: bool) -> None:
        self.let_in = admit

    async def admit(self, turn: Turn) -> Verdict | None:
        return Verdict(None) if self.let_in else None


class Continuation:
    def __init__(self, continuable: str) -> None:
        self.continuable: str | None = continuable
        self.continued = 0

    async def take_continuable(self, turn: Turn, generation_id: str) -> bool:
        if generation_id != self.continuable:
            return False
        self.continuable = None
        return True

    async def continue_answer(self, turn: Turn, quota: QuotaLimits | None) -> bool:
        self.continued += 1
        return True


async def _continue(generation_id: str, admit: bool = True) -> tuple[KeyboardMessage, Notes, int]:
    shown = KeyboardMessage(Chat(id=GROUP, type="supergroup"))
    notes, answering = Notes(), Continuation("real")
    await continue_in_turn(
        TURN,
        shown,
        generation_id,
        Gatekeeper(admit),
        answering,
        notes,  # type: ignore[arg-type]
    )
    return shown, notes, answering.continued


async def test_a_forged_continue_leaves_the_button_and_says_so() -> None:
    shown, notes, continued = await _continue("forged")
    assert not shown.markup_removed and continued == 0
    assert [text for _, text in notes.said] == ["There is nothing to continue."]


async def test_a_refused_user_leaves_the_button_to_others() -> None:
    shown, notes, continued = await _continue("real", admit=False)
    assert not shown.markup_removed and continued == 0 and notes.said == []


async def test_the_real_continue_removes_the_button_and_continues() -> None:
    shown, notes, continued = await _continue("real")
    assert shown.markup_removed and continued == 1 and notes.said == []


async def test_only_the_author_is_told_stopping() -> None:
    running = Running()
    generation = running.start(GROUP, ALICE)
    stopping = Stopping(running, LocalSignals())
    shown = message()
    for user, forged in ((BOB, False), (ALICE, True), (ALICE, False)):
        data = StopButton(generation="nope" if forged else generation.id)
        query = Query(data.pack(), User(id=user, is_bot=False, first_name="U"), shown)
        await on_stop(query, data, "en", stopping)  # type: ignore[arg-type]
        assert query.answers == [("Stopping…" if user == ALICE and not forged else None, False)]
        assert generation.stop.is_set() == (user == ALICE and not forged)


class Rights:
    def __init__(self, manager: bool) -> None:
        self.manager = manager

    async def may(self, right: str) -> bool:
        return self.manager and right == "manage_chat"

    def refusal(self, right: str) -> str:
        return "group_admins_only"


class Settings:
    def __init__(self) -> None:
        self.context: bool | None = None

    async def keeps_context(self, chat_id: int) -> bool:
        return bool(self.context)

    async def set_keeps_context(self, chat_id: int, on: bool) -> None:
        self.context = on


async def test_settings_change_only_for_those_who_manage_the_chat() -> None:
    command: Any = type("Command", (), {"args": "on"})()
    for manager, said in ((False, "Only this group's admins"), (True, "from now on")):
        notes, service = Notes(), Settings()
        await cmd_context(message(), command, TURN, "en", Rights(manager), service, notes)  # type: ignore[arg-type]
        assert said in notes.said[0][1]
        assert service.context == (True if manager else None)


async def test_the_error_handler_answers_in_the_turns_chat_and_language() -> None:
    notes = Notes()
    event = ErrorEvent(update=Update(update_id=3), exception=StorageUnavailable("down"))
    turn = Turn(GROUP, False, 12, ALICE, "ru")
    await on_error(event, notes, "ru", turn)  # type: ignore[arg-type]
    # Through the notices, as every other notice: the turn's chat, topic and reply.
    assert notes.said and notes.said[0][0] is turn
    assert "хранилище не отвечает" in notes.said[0][1]
    await on_error(event, notes, "en", None)  # type: ignore[arg-type]  # no chat: only logged
    assert len(notes.said) == 1
