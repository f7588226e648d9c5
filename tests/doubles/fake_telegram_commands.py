"""setMyCommands / getMyCommands / deleteMyCommands for the fake Bot API.

Checked in the order and with the words of the real stack: the Bot API server parses the
commands and the scope (telegram-bot-api Client.cpp), TDLib checks the scope's chat, the language
code and each command (td/telegram/BotCommand.cpp: trimmed, a leading "/" dropped, at most 32
and 256 characters), and Telegram's server answers BOT_COMMANDS_TOO_MUCH past 100 commands and
BOT_COMMAND_INVALID for a name outside [a-z0-9_]. The server lowercases the first letter of a
message that is not an UPPER_CASE code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from tests.doubles.fake_telegram_limits import ApiError, bad_request

Json = dict[str, Any]

SCOPES_WITHOUT_CHAT = ("default", "all_private_chats", "all_group_chats", "all_chat_administrators")
SCOPES_WITH_CHAT = ("chat", "chat_administrators", "chat_member")
MAX_COMMANDS = 100
MAX_COMMAND_LENGTH = 32
MAX_DESCRIPTION_LENGTH = 256
_NAME = re.compile(r"[a-z0-9_]+")


def _error(message: str) -> ApiError:
    if len(message) >= 2 and (message[1] == "_" or message[1].isupper()):
        return bad_request(message)
    return bad_request(message[0].lower() + message[1:])


def _string_field(value: Json, name: str) -> str:
    if name not in value:
        raise ValueError(f'Can\'t find field "{name}"')
    field = value[name]
    if isinstance(field, bool) or not isinstance(field, str | int | float):
        raise ValueError(f'Field "{name}" must be of type String')
    return str(field)


def _command(value: Any) -> Json:
    if not isinstance(value, dict):
        raise ValueError("expected an Object")
    command = {
        "command": _string_field(value, "command"),
        "description": _string_field(value, "description"),
    }
    ephemeral = value.get("is_ephemeral")
    if ephemeral is not None and not isinstance(ephemeral, bool):
        raise ValueError('Field "is_ephemeral" must be of type Boolean')
    if ephemeral:
        command["is_ephemeral"] = True
    return command


def parse_commands(params: Json) -> list[Json]:
    """The Bot API server's parse of `commands` (missing: an empty list)."""
    raw = params.get("commands")
    if raw is None:
        return []
    if isinstance(raw, str):
        raise _error("Can't parse commands JSON object")
    if not isinstance(raw, list):
        raise _error("Expected an Array of BotCommand")
    try:
        return [_command(item) for item in raw]
    except ValueError as exc:
        raise _error(f"Can't parse BotCommand: {exc}") from None


def _scope(raw: Any) -> Json:
    if not isinstance(raw, dict):
        raise ValueError("BotCommandScope must be an Object")
    kind = _string_field(raw, "type")
    if kind in SCOPES_WITHOUT_CHAT:
        return {"type": kind}
    if kind not in SCOPES_WITH_CHAT:
        raise ValueError("Unsupported type specified")
    chat_id = _string_field(raw, "chat_id")
    if not chat_id:
        raise ValueError("Empty chat_id specified")
    scope: Json = {"type": kind, "chat_id": chat_id}
    if kind == "chat_member":
        if "user_id" not in raw:
            raise ValueError('Can\'t find field "user_id"')
        user_id = raw["user_id"]
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            raise ValueError('Field "user_id" must be of type Number')
        if user_id <= 0:
            raise ValueError("Invalid user_id specified")
        scope["user_id"] = user_id
    return scope


def commands_key(params: Json, known_chat: Callable[[int], bool]) -> tuple[str, str]:
    """Where a command list is kept: the scope (parsed and checked) and the language code."""
    raw = params.get("scope")
    scope: Json = {"type": "default"}
    if raw is not None:
        if isinstance(raw, str):
            raise _error("Can't parse BotCommandScope JSON object")
        try:
            scope = _scope(raw)
        except ValueError as exc:
            raise _error(f"Can't parse BotCommandScope: {exc}") from None
    if "chat_id" in scope:
        try:
            chat_id = int(scope["chat_id"])
        except ValueError:
            raise _error("chat not found") from None
        if not known_chat(chat_id):
            raise _error("chat not found")
        if chat_id > 0 and scope["type"] != "chat":
            raise _error("Can't use specified scope in private chats")
        scope["chat_id"] = chat_id
    language = str(params.get("language_code") or "")
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise _error("Invalid language code specified")
    return json.dumps(scope, sort_keys=True), language


def check_commands(commands: list[Json]) -> list[Json]:
    """TDLib's and the server's checks of a parsed list; the list as Telegram keeps it."""
    kept = []
    for command in commands:
        name = command["command"].strip().removeprefix("/")
        if not name:
            raise _error("Command must be non-empty")
        if len(name) > MAX_COMMAND_LENGTH:
            raise _error(f"Command length must not exceed {MAX_COMMAND_LENGTH}")
        description = command["description"].strip()
        if not description:
            raise _error("Command description must be non-empty")
        if len(description) > MAX_DESCRIPTION_LENGTH:
            raise _error(f"Command description length must not exceed {MAX_DESCRIPTION_LENGTH}")
        kept.append({**command, "command": name, "description": description})
    if len(kept) > MAX_COMMANDS:
        raise _error("BOT_COMMANDS_TOO_MUCH")
    if not all(_NAME.fullmatch(command["command"]) for command in kept):
        raise _error("BOT_COMMAND_INVALID")
    return kept
