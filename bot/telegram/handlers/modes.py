"""/mode: the chat's mode from a keyboard (the default first, the current one ✅), or by id.
In groups only the group's admins change it; an unknown id or a stale button changes nothing."""

from __future__ import annotations

import contextlib

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.core.models import ChatKey
from bot.core.modes import DEFAULT_MODE, Mode, Modes
from bot.telegram.buttons import ModeButton
from bot.telegram.notices import Notices
from bot.telegram.rights import Rights, allowed
from bot.telegram.texts import DEFAULT_LANG, Lang, t
from bot.telegram.turn import Turn


def mode_keyboard(modes: Modes, current: Mode | None, lang: Lang) -> InlineKeyboardMarkup:
    chosen = current.id if current is not None else DEFAULT_MODE
    rows = []
    for mode in modes.all():
        title = mode.title(lang, DEFAULT_LANG)
        text = f"✅ {title}" if mode.id == chosen else title
        rows.append([InlineKeyboardButton(text=text, callback_data=ModeButton(id=mode.id).pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def cmd_mode(
    message: Message,
    command: CommandObject,
    turn: Turn,
    lang: Lang,
    rights: Rights,
    modes: Modes,
    notices: Notices,
) -> None:
    chat = ChatKey(turn.chat_id, turn.thread_id)
    wanted = (command.args or "").strip()
    if not wanted:
        current = await modes.of(chat)
        title = (current or modes.all()[0]).title(lang, DEFAULT_LANG)
        await notices.send(
            turn, t("mode_pick", lang, mode=title), mode_keyboard(modes, current, lang)
        )
        return
    if modes.get(wanted) is None:
        await notices.notify(turn, t("mode_unknown", lang, mode=wanted[:40]))
        return
    if not await allowed("manage_chat", rights, turn, notices):
        return
    mode = await modes.choose(chat, wanted)
    if mode is not None:
        await notices.notify(turn, t("mode_set", lang, mode=mode.title(lang, DEFAULT_LANG)))


async def on_mode(
    query: CallbackQuery,
    callback_data: ModeButton,
    lang: Lang,
    rights: Rights,
    modes: Modes,
    turn: Turn | None = None,
) -> None:
    message = query.message
    if not isinstance(message, Message) or turn is None or modes.get(callback_data.id) is None:
        await query.answer(t("mode_unknown", lang, mode=callback_data.id[:40]))
        return
    if not await rights.may("manage_chat"):
        await query.answer(t("group_admins_only", lang))
        return
    mode = await modes.choose(ChatKey(turn.chat_id, turn.thread_id), callback_data.id)
    if mode is None:
        await query.answer(t("mode_unknown", lang, mode=callback_data.id[:40]))
        return
    await query.answer(t("mode_set", lang, mode=mode.title(lang, DEFAULT_LANG)))
    shown = None if mode.id == DEFAULT_MODE else mode
    with contextlib.suppress(TelegramAPIError):
        await message.edit_reply_markup(reply_markup=mode_keyboard(modes, shown, lang))


def router() -> Router:
    modes = Router(name="modes")
    modes.message.register(cmd_mode, Command("mode"))
    modes.callback_query.register(on_mode, ModeButton.filter())
    return modes
