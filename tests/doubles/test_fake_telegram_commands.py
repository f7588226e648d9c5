"""The fake Bot API's command lists: scopes, languages, limits and Telegram's error texts."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeChatAdministrators,
)

from tests.doubles.fake_telegram import FakeTelegramServer

GROUP = -1001234567890
USER = 4242


async def _raw(tg: FakeTelegramServer, **params: Any) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{tg.base_url}/bot{tg.token}/setMyCommands", json=params) as resp,
    ):
        body = await resp.json()
        return resp.status, body.get("description", "")


async def test_lists_are_kept_per_scope_and_language(tg: FakeTelegramServer, bot: Bot) -> None:
    usage = BotCommand(command="usage", description="Your usage", is_ephemeral=True)
    await bot.set_my_commands([usage], scope=BotCommandScopeAllGroupChats(), language_code="ru")
    await bot.set_my_commands(
        [BotCommand(command="/new", description="  New chat  ")],
        scope=BotCommandScopeAllPrivateChats(),
    )
    assert tg.commands_of({"type": "all_group_chats"}, "ru") == [
        {"command": "usage", "description": "Your usage", "is_ephemeral": True}
    ]
    assert tg.commands_of({"type": "all_group_chats"}) == []
    private = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())
    assert [(c.command, c.description) for c in private] == [("new", "New chat")]
    await bot.set_my_commands([], scope=BotCommandScopeAllPrivateChats())
    assert tg.commands_of({"type": "all_private_chats"}) == []
    [call] = [c for c in tg.calls_of("setMyCommands") if c.params.get("language_code") == "ru"]
    assert call.params["scope"] == {"type": "all_group_chats"}


@pytest.mark.parametrize(
    ("commands", "error"),
    [
        ([{"command": "Bad-Name", "description": "x"}], "BOT_COMMAND_INVALID"),
        ([{"command": "a" * 33, "description": "x"}], "command length must not exceed 32"),
        ([{"command": " / ", "description": "x"}], "command must be non-empty"),
        ([{"command": "ok", "description": "   "}], "command description must be non-empty"),
        (
            [{"command": "ok", "description": "x" * 257}],
            "command description length must not exceed 256",
        ),
        ([{"command": f"c{i}", "description": "x"} for i in range(101)], "BOT_COMMANDS_TOO_MUCH"),
        ([{"command": "ok"}], "can't parse BotCommand: Can't find field \"description\""),
        (
            [{"command": "ok", "description": "x", "is_ephemeral": "yes"}],
            'can\'t parse BotCommand: Field "is_ephemeral" must be of type Boolean',
        ),
        ({"command": "ok"}, "expected an Array of BotCommand"),
    ],
)
async def test_commands_rejected_as_telegram_does(
    tg: FakeTelegramServer, commands: Any, error: str
) -> None:
    assert await _raw(tg, commands=commands) == (400, f"Bad Request: {error}")
    assert tg.commands == {}


async def test_the_limits_themselves_are_accepted(tg: FakeTelegramServer) -> None:
    commands = [{"command": f"{i:0>32}", "description": "d" * 256} for i in range(100)]
    assert await _raw(tg, commands=commands) == (200, "")
    assert len(tg.commands_of({"type": "default"})) == 100


@pytest.mark.parametrize(
    ("params", "error"),
    [
        (
            {"scope": {"type": "all_groups"}},
            "can't parse BotCommandScope: Unsupported type specified",
        ),
        ({"scope": {}}, "can't parse BotCommandScope: Can't find field \"type\""),
        ({"scope": {"type": "chat"}}, "can't parse BotCommandScope: Can't find field \"chat_id\""),
        ({"scope": "{"}, "can't parse BotCommandScope JSON object"),
        ({"scope": {"type": "chat", "chat_id": -100777}}, "chat not found"),
        (
            {"scope": {"type": "chat_administrators", "chat_id": USER}},
            "can't use specified scope in private chats",
        ),
        ({"language_code": "rus"}, "invalid language code specified"),
        ({"language_code": "RU"}, "invalid language code specified"),
    ],
)
async def test_scopes_and_languages_rejected_as_telegram_does(
    tg: FakeTelegramServer, params: dict[str, Any], error: str
) -> None:
    tg.chat(USER)
    commands = [{"command": "help", "description": "Help"}]
    assert await _raw(tg, commands=commands, **params) == (400, f"Bad Request: {error}")


async def test_chat_scopes_need_a_chat_the_bot_knows(tg: FakeTelegramServer, bot: Bot) -> None:
    commands = [BotCommand(command="stats", description="Stats")]
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=USER))
    tg.chat(USER)
    tg.chat(GROUP)
    assert await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=USER))
    assert await bot.set_my_commands(
        commands, scope=BotCommandScopeChatAdministrators(chat_id=GROUP)
    )
    assert tg.commands_of({"type": "chat", "chat_id": USER}) == [
        {"command": "stats", "description": "Stats"}
    ]
    admins = await bot.get_my_commands(scope=BotCommandScopeChatAdministrators(chat_id=GROUP))
    assert [c.command for c in admins] == ["stats"]
    assert await bot.delete_my_commands(scope=BotCommandScopeAllChatAdministrators())
