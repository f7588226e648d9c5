"""The command menu: registered at start per scope and language, each listing what works there."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram.filters import Command

from bot.app import App, build_app
from bot.telegram.commands_menu import BOT_ADMINS, GROUP, GROUP_ADMINS, PRIVATE, menus
from bot.telegram.texts import LANGS, t
from tests.doubles.fake_gonka import FakeGonka
from tests.doubles.fake_telegram import FakeTelegramServer
from tests.e2e.conftest import USER, EnvFactory, make_settings

ADMIN = 9001
PRIVATE_SCOPE = {"type": "all_private_chats"}
GROUP_SCOPE = {"type": "all_group_chats"}
GROUP_ADMIN_SCOPE = {"type": "all_chat_administrators"}
ADMIN_SCOPE = {"type": "chat", "chat_id": ADMIN}


@contextlib.asynccontextmanager
async def _started(tg: FakeTelegramServer, **overrides: Any) -> AsyncIterator[App]:
    async with FakeGonka() as gonka:
        app = build_app(make_settings(tg, gonka, **overrides))
        task = asyncio.create_task(app.run_polling(polling_timeout=1, handle_signals=False))
        try:
            await tg.wait_for(lambda: tg.calls_of("getUpdates"), timeout=5)
            yield app
        finally:
            await app.dispatcher.stop_polling()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 5)
            await app.close()
    assert not tg.internal_errors, tg.internal_errors


def _listed(tg: FakeTelegramServer, scope: dict[str, Any], lang: str) -> list[tuple[str, bool]]:
    commands = tg.commands_of(scope, "" if lang == "en" else lang)
    for command in commands:
        assert command["description"] == t(f"cmd_{command['command']}", lang)
    return [(c["command"], bool(c.get("is_ephemeral"))) for c in commands]


async def test_menu_per_scope_and_language() -> None:
    async with FakeTelegramServer() as tg:
        tg.chat(ADMIN)  # the admin has opened a chat with the bot
        async with _started(tg, admin_ids=frozenset({ADMIN})):
            pass
    assert len(tg.calls_of("setMyCommands")) == 8
    assert all(c.status == 200 for c in tg.calls_of("setMyCommands"))
    assert {lang for _, lang in tg.commands} == {"", "ru"}
    for lang in ("en", "ru"):
        private = _listed(tg, PRIVATE_SCOPE, lang)
        assert private == [
            (c, False)
            for c in ("new", "reset", "retry", "usage", "model", "mode", "system", "export", "help")
        ]
        group = _listed(tg, GROUP_SCOPE, lang)
        assert group == [
            ("ask", False),
            ("retry", False),
            ("usage", True),
            ("model", False),
            ("mode", False),
            ("system", False),
            ("context", False),
            ("export", False),
            ("help", True),
        ]
        admins = _listed(tg, GROUP_ADMIN_SCOPE, lang)
        assert admins == [group[0], ("reset", False), *group[1:-1], ("tools", False), group[-1]]
        bot_admin = [name for name, _ in _listed(tg, ADMIN_SCOPE, lang)]
        assert bot_admin == [name for name, _ in private] + [
            "tools", "stats", "allow", "block", "unblock", "quota"
        ]  # fmt: skip
    assert tg.commands_of(GROUP_SCOPE, "ru")[0]["description"] == "Задать мне вопрос"
    assert tg.commands_of(GROUP_SCOPE)[0]["description"] == "Ask me a question"


async def test_a_failed_menu_is_logged_and_the_bot_still_answers(
    make_env: EnvFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.telegram.commands_menu")
    # The admin never opened a chat with the bot: Telegram has no chat to set a menu for.
    async with make_env(admin_ids=frozenset({ADMIN})) as env:
        await env.telegram.send_text(USER, "/help", language_code="ru")
        await env.wait_replies(1)
        assert env.visible_texts()[0] == t("start", "ru")
    refused = [c for c in env.telegram.calls_of("setMyCommands") if c.status != 200]
    assert {c.description for c in refused} == {"Bad Request: chat not found"}
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == "bot.telegram.commands_menu" and r.levelno == logging.WARNING
    ]
    assert len(warnings) == len(LANGS)
    assert all(f"scope=chat:{ADMIN}" in w and "chat not found" in w for w in warnings)
    assert "command menu set lists=6 of 8" in caplog.text


async def test_a_telegram_outage_at_start_does_not_stop_the_bot(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.telegram.commands_menu")
    async with FakeTelegramServer() as tg:
        tg.fail_next("setMyCommands", times=6, status=502, description="Bad Gateway")
        async with _started(tg) as app:
            await tg.send_text(USER, "/start")
            await tg.wait_for(lambda: tg.last_bot_text(USER) == t("start", "en"))
            assert app.running.active == 0
    assert tg.commands == {}
    assert "command menu set lists=0 of 6" in caplog.text


def _handled(app: App) -> set[str]:
    names: set[str] = set()
    for router in app.dispatcher.chain_tail:
        for handler in router.message.handlers:
            for filter_ in handler.filters or ():
                if isinstance(filter_.callback, Command):
                    names |= {str(c) for c in filter_.callback.commands}
    return names


async def test_every_listed_command_is_handled_and_every_command_listed() -> None:
    async with FakeTelegramServer() as tg, FakeGonka() as gonka:
        app = build_app(make_settings(tg, gonka, admin_ids=frozenset({ADMIN})))
        try:
            handled = _handled(app) | {"ask"}  # /ask: read by the group addressing (addressing.py)
        finally:
            await app.close()
    listed = {c.name for menu in (PRIVATE, GROUP, GROUP_ADMINS, BOT_ADMINS) for c in menu}
    listed |= {c.name for menu in menus([ADMIN], selling=True) for c in menu.commands}
    assert listed <= handled
    assert handled - listed == {"start"}  # the client's own Start button sends it
    assert "context" not in {c.name for c in PRIVATE}  # answers "for groups" in private chats
