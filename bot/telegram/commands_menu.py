"""The command menu: setMyCommands at start-up, per scope and per language.

Each scope lists only the commands that work there for the people it reaches (see the handlers):
- private chats: the conversation and its settings, and buying tokens for Stars (/buy,
  /paysupport, /terms);
- groups, for everyone: /ask, /retry (its asker's and the admins' only) and what anyone may read;
  /usage and /help answer only the caller,
  so they are ephemeral commands (Bot API 10.3: the command itself is seen by nobody else);
- group admins (all_chat_administrators): also /reset and /tools, which only they may do in a
  group;
- each bot admin's private chat (ADMIN_IDS): also /tools, /stats, /allow, /block, /unblock,
  /quota, /refund.
The descriptions are catalog texts (`cmd_<name>`); the default language's list is the fallback
for every language without a catalog, the others are set with their language_code.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeUnion,
)

from bot.telegram.bot_api import api_error
from bot.telegram.texts import DEFAULT_LANG, LANGS, Lang, t

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 10


@dataclass(frozen=True, slots=True)
class MenuCommand:
    name: str
    ephemeral: bool = False  # the answer is for the caller alone (groups only)


PRIVATE = tuple(
    MenuCommand(name)
    for name in ("new", "reset", "retry", "usage", "model", "mode", "system", "export", "help")
)
# When tokens are for sale (STAR_PACKS or STAR_SUBSCRIPTION), before /help in private chats.
SELLING = tuple(MenuCommand(name) for name in ("buy", "paysupport", "terms"))
GROUP = (
    MenuCommand("ask"),
    MenuCommand("retry"),
    MenuCommand("usage", ephemeral=True),
    MenuCommand("model"),
    MenuCommand("mode"),
    MenuCommand("system"),
    MenuCommand("context"),
    MenuCommand("export"),
    MenuCommand("help", ephemeral=True),
)
# A group's admins also clear its history (/reset, after /ask) and switch its tools (/tools).
GROUP_ADMINS = (GROUP[0], MenuCommand("reset"), *GROUP[1:-1], MenuCommand("tools"), GROUP[-1])
BOT_ADMINS = (
    *PRIVATE,
    *(MenuCommand(name) for name in ("tools", "stats", "allow", "block", "unblock", "quota")),
)


@dataclass(frozen=True, slots=True)
class Menu:
    scope: BotCommandScopeUnion
    commands: tuple[MenuCommand, ...]

    @property
    def name(self) -> str:
        kind = str(getattr(self.scope.type, "value", self.scope.type))
        chat_id = getattr(self.scope, "chat_id", None)
        return kind if chat_id is None else f"{kind}:{chat_id}"


def menus(admins: Iterable[int], selling: bool = False) -> list[Menu]:
    """Every scope the bot sets, with its commands (`selling`: tokens are sold for Stars)."""
    private, bot_admins = PRIVATE, BOT_ADMINS
    if selling:
        private = (*PRIVATE[:-1], *SELLING, PRIVATE[-1])
        bot_admins = (*private, *BOT_ADMINS[len(PRIVATE) :], MenuCommand("refund"))
    return [
        Menu(BotCommandScopeAllPrivateChats(), private),
        Menu(BotCommandScopeAllGroupChats(), GROUP),
        Menu(BotCommandScopeAllChatAdministrators(), GROUP_ADMINS),
        *(Menu(BotCommandScopeChat(chat_id=admin), bot_admins) for admin in sorted(admins)),
    ]


def bot_commands(commands: Iterable[MenuCommand], lang: Lang) -> list[BotCommand]:
    return [
        BotCommand(
            command=command.name,
            description=t(f"cmd_{command.name}", lang),
            is_ephemeral=True if command.ephemeral else None,
        )
        for command in commands
    ]


async def _set(bot: Bot, menu: Menu, lang: Lang) -> bool:
    try:
        await bot.set_my_commands(
            bot_commands(menu.commands, lang),
            scope=menu.scope,
            language_code=None if lang == DEFAULT_LANG else lang,
            request_timeout=REQUEST_TIMEOUT,
        )
    except TelegramAPIError as exc:
        # A bot admin who never opened a chat with the bot has none: "chat not found".
        log.warning(
            "command menu not set scope=%s lang=%s error=%s: %s",
            menu.name, lang, type(exc).__name__, api_error(exc),
        )  # fmt: skip
        return False
    return True


async def publish_menu(
    bot: Bot, admins: Iterable[int], langs: Iterable[Lang] = LANGS, selling: bool = False
) -> int:
    """Set the command menu of every scope in every language; a failure is logged and the
    others still go. Returns how many lists Telegram accepted."""
    calls = [_set(bot, menu, lang) for menu in menus(admins, selling) for lang in langs]
    done = sum(await asyncio.gather(*calls))
    log.info("command menu set lists=%d of %d", done, len(calls))
    return done
