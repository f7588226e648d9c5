"""/tools: which tools the model may call in this chat; admins turn them off and on."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.core.tool_rounds import ToolKit
from bot.core.tools import ALL_TOOLS, ToolRegistry
from bot.telegram.notices import Notices
from bot.telegram.rights import Rights, allowed
from bot.telegram.texts import Lang, t
from bot.telegram.turn import Turn


async def cmd_tools(
    message: Message,
    command: CommandObject,
    turn: Turn,
    lang: Lang,
    rights: Rights,
    notices: Notices,
    tools: ToolKit | None = None,
) -> None:
    """`/tools` lists them with their state here; `/tools on|off [name]` switches all or one.
    Bot admins everywhere, a group's own admins in their group."""
    if not await allowed("group_admin", rights, turn, notices):
        return
    registry = tools.registry if tools is not None else None
    if registry is None or not registry.names:
        await notices.notify(turn, t("tools_none", lang))
        return
    args = (command.args or "").split()
    if args and args[0].lower() in ("on", "off") and len(args) <= 2:
        name = args[1] if len(args) == 2 else ALL_TOOLS
        if not await registry.switch(turn.chat_id, args[0].lower() == "on", name):
            await notices.notify(turn, t("tools_unknown", lang, name=name))
            return
    elif args:
        await notices.notify(turn, t("tools_usage", lang))
        return
    await notices.notify(turn, await _listing(registry, turn.chat_id, lang))


async def _listing(tools: ToolRegistry, chat_id: int, lang: Lang) -> str:
    on = await tools.for_chat(chat_id)
    lines = [f"{'✅' if name in on else '⛔'} {name}" for name in tools.names]
    return t("tools_list", lang, tools="\n".join(lines))


def router() -> Router:
    tools = Router(name="tools")
    tools.message.register(cmd_tools, Command("tools"))
    return tools
