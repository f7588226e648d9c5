"""A chat's settings: /system (its system prompt) and a group's /context."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.core.conversation import ConversationService
from bot.telegram.notices import Notices
from bot.telegram.rights import Rights, allowed
from bot.telegram.texts import Lang, t
from bot.telegram.turn import Turn


async def cmd_system(
    message: Message,
    command: CommandObject,
    turn: Turn,
    lang: Lang,
    rights: Rights,
    service: ConversationService,
    notices: Notices,
) -> None:
    text = (command.args or "").strip()
    if not text:
        custom = await service.system_prompt(turn.chat_id)
        if custom is None:
            shown = t("system_show_default", lang, prompt=service.default_system_prompt)
        else:
            shown = t("system_show", lang, prompt=custom)
        await notices.notify(turn, shown)
        return
    if not await allowed("manage_chat", rights, turn, notices):
        return
    if text == "reset":
        await service.set_system_prompt(turn.chat_id, None)
        await notices.notify(turn, t("system_reset", lang))
        return
    done = await service.set_system_prompt(turn.chat_id, text)
    await notices.notify(turn, t("system_set" if done else "system_too_long", lang))


async def cmd_context(
    message: Message,
    command: CommandObject,
    turn: Turn,
    lang: Lang,
    rights: Rights,
    service: ConversationService,
    notices: Notices,
) -> None:
    if turn.private:
        await notices.notify(turn, t("context_groups_only", lang))
        return
    wanted = (command.args or "").strip().lower()
    if wanted not in ("on", "off"):
        on = await service.keeps_context(turn.chat_id)
        await notices.notify(turn, t("context_is_on" if on else "context_is_off", lang))
        return
    if not await allowed("manage_chat", rights, turn, notices):
        return
    await service.set_keeps_context(turn.chat_id, wanted == "on")
    await notices.notify(turn, t("context_set_on" if wanted == "on" else "context_set_off", lang))


def router() -> Router:
    settings = Router(name="settings")
    settings.message.register(cmd_system, Command("system"))
    settings.message.register(cmd_context, Command("context"))
    return settings
