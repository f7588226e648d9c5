"""Chat settings: /model with its keyboard of live models, /system, and a group's /context."""

from __future__ import annotations

import dataclasses
import hashlib

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.core.access import Gate
from bot.core.conversation import ConversationService
from bot.core.model_choice import ModelResolver
from bot.telegram.chat_admins import ChatAdmins
from bot.telegram.responder import Responder, Turn, turn_of
from bot.telegram.texts import Lang, t

# Callback data holds at most 64 bytes: a model is named by a short hash of its id.
CHAT_PREFIX = "mc:"
DEFAULT_PREFIX = "md:"
USE_DEFAULT = "-"


def model_tag(model: str) -> str:
    return hashlib.sha1(model.encode(), usedforsecurity=False).hexdigest()[:10]


def _keyboard(
    models: list[str], current: str, prefix: str, lang: Lang, with_reset: bool
) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=f"✅ {model}" if model == current else model,
                callback_data=prefix + model_tag(model),
            )
        ]
        for model in models
    ]
    if with_reset:
        rows.append(
            [
                InlineKeyboardButton(
                    text=t("model_use_default", lang), callback_data=prefix + USE_DEFAULT
                )
            ]
        )
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def _show_models(
    turn: Turn, admin_default: bool, models: ModelResolver, responder: Responder
) -> None:
    lang = turn.lang
    state = await models.state(turn.chat_id)
    wanted = state.chat_model or state.default_model
    text = t("model_current", lang, model=state.effective, default=state.default_model)
    if wanted != state.effective:
        text += t("model_replaced", lang, wanted=wanted, model=state.effective)
    markup = None
    if not state.available:
        text += t("model_no_list", lang)
    elif admin_default:
        text += t("model_pick_default", lang)
        markup = _keyboard(state.available, state.default_model, DEFAULT_PREFIX, lang, False)
    else:
        text += t("model_pick_chat", lang)
        markup = _keyboard(
            state.available, state.effective, CHAT_PREFIX, lang, state.chat_model is not None
        )
    await responder.send(turn, text, markup)


def setup() -> Router:
    router = Router(name="settings")

    @router.message(Command("model"))
    async def cmd_model(
        message: Message,
        command: CommandObject,
        lang: Lang,
        models: ModelResolver,
        gate: Gate,
        responder: Responder,
    ) -> None:
        turn = turn_of(message, lang)
        admin_default = (command.args or "").strip() == "default"
        if admin_default and not gate.is_admin(turn.user_id):
            await responder.notify(turn, t("admins_only", lang))
            return
        await _show_models(turn, admin_default, models, responder)

    @router.callback_query(F.data.startswith(CHAT_PREFIX) | F.data.startswith(DEFAULT_PREFIX))
    async def on_model_button(
        query: CallbackQuery,
        lang: Lang,
        models: ModelResolver,
        gate: Gate,
        responder: Responder,
        chat_admins: ChatAdmins,
    ) -> None:
        message = query.message
        data = query.data or ""
        if not isinstance(message, Message):
            await query.answer(t("model_gone", lang))
            return
        turn = turn_of(message, lang, user_id=query.from_user.id)
        turn = dataclasses.replace(turn, callback_query_id=query.id)  # results: for the presser
        for_default = data.startswith(DEFAULT_PREFIX)
        if for_default:
            allowed = gate.is_admin(turn.user_id)
        else:
            # The presser's own standing: the keyboard message is the bot's.
            group_admin = (
                not turn.private
                and not gate.is_admin(turn.user_id)
                and await chat_admins.is_admin(turn.chat_id, turn.user_id)
            )
            allowed = gate.may_pick_model(turn.user_id, turn.private, group_admin)
        if not allowed:
            refusal = "admins_only" if for_default or turn.private else "group_admins_only"
            await query.answer(t(refusal, lang), show_alert=True)
            return
        tag = data[len(CHAT_PREFIX) :]
        if tag == USE_DEFAULT and not for_default:
            await models.set_chat(turn.chat_id, None)
            await query.answer()
            await responder.notify(turn, t("model_chat_reset", lang))
            return
        model = next((m for m in await models.available() if model_tag(m) == tag), None)
        if model is None:
            await query.answer(t("model_gone", lang), show_alert=True)
            return
        done = (
            await models.set_default(model)
            if for_default
            else await models.set_chat(turn.chat_id, model)
        )
        if not done:
            await query.answer(t("model_gone", lang), show_alert=True)
            return
        await query.answer()
        key = "model_set_default" if for_default else "model_set_chat"
        await responder.notify(turn, t(key, lang, model=model))

    @router.message(Command("system"))
    async def cmd_system(
        message: Message,
        command: CommandObject,
        lang: Lang,
        service: ConversationService,
        gate: Gate,
        responder: Responder,
        chat_admins: ChatAdmins,
    ) -> None:
        turn = turn_of(message, lang)
        text = (command.args or "").strip()
        if not text:
            custom = await service.system_prompt(turn.chat_id)
            if custom is None:
                shown = t("system_show_default", lang, prompt=service.default_system_prompt)
            else:
                shown = t("system_show", lang, prompt=custom)
            await responder.notify(turn, shown)
            return
        group_admin = await chat_admins.of(message, turn.user_id, gate.is_admin(turn.user_id))
        if not gate.may_manage_chat(turn.user_id, turn.private, group_admin):
            await responder.notify(turn, t("group_admins_only", lang))
            return
        if text == "reset":
            await service.set_system_prompt(turn.chat_id, None)
            await responder.notify(turn, t("system_reset", lang))
            return
        done = await service.set_system_prompt(turn.chat_id, text)
        await responder.notify(turn, t("system_set" if done else "system_too_long", lang))

    @router.message(Command("context"))
    async def cmd_context(
        message: Message,
        command: CommandObject,
        lang: Lang,
        service: ConversationService,
        gate: Gate,
        responder: Responder,
        chat_admins: ChatAdmins,
    ) -> None:
        turn = turn_of(message, lang)
        if turn.private:
            await responder.notify(turn, t("context_groups_only", lang))
            return
        wanted = (command.args or "").strip().lower()
        if wanted not in ("on", "off"):
            on = await service.keeps_context(turn.chat_id)
            await responder.notify(turn, t("context_is_on" if on else "context_is_off", lang))
            return
        group_admin = await chat_admins.of(message, turn.user_id, gate.is_admin(turn.user_id))
        if not gate.may_manage_chat(turn.user_id, turn.private, group_admin):
            await responder.notify(turn, t("group_admins_only", lang))
            return
        await service.set_keeps_context(turn.chat_id, wanted == "on")
        await responder.notify(
            turn, t("context_set_on" if wanted == "on" else "context_set_off", lang)
        )

    return router
