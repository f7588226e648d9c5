"""/model with its keyboard of live models, and the presses of that keyboard (checked here)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.core.access import Right
from bot.core.model_choice import ModelResolver
from bot.telegram.buttons import USE_DEFAULT, ChatModelButton, DefaultModelButton, model_tag
from bot.telegram.notices import Notices
from bot.telegram.rights import Rights, allowed
from bot.telegram.texts import Lang, t
from bot.telegram.turn import Turn

ModelButton = ChatModelButton | DefaultModelButton


def keyboard(
    models: list[str], current: str, default: bool, lang: Lang, with_reset: bool
) -> InlineKeyboardMarkup:
    """One button a model (the current one ticked), and "use the default" when asked."""
    kind = DefaultModelButton if default else ChatModelButton
    rows = [_row(kind(tag=model_tag(m)), f"✅ {m}" if m == current else m) for m in models]
    if with_reset:
        rows.append(_row(kind(tag=USE_DEFAULT), t("model_use_default", lang)))
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _row(data: ModelButton, text: str) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(text=text, callback_data=data.pack())]


async def cmd_model(
    message: Message,
    command: CommandObject,
    turn: Turn,
    lang: Lang,
    rights: Rights,
    models: ModelResolver,
    notices: Notices,
) -> None:
    admin_default = (command.args or "").strip() == "default"
    if admin_default and not await allowed("bot_admin", rights, turn, notices):
        return
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
        markup = keyboard(state.available, state.default_model, True, lang, False)
    else:
        text += t("model_pick_chat", lang)
        reset = state.chat_model is not None
        markup = keyboard(state.available, state.effective, False, lang, reset)
    await notices.send(turn, text, markup)


async def on_model_button(
    query: CallbackQuery,
    callback_data: ModelButton,
    lang: Lang,
    rights: Rights,
    models: ModelResolver,
    notices: Notices,
    turn: Turn | None = None,
) -> None:
    if turn is None:
        await query.answer(t("model_gone", lang))
        return
    for_default = isinstance(callback_data, DefaultModelButton)
    right: Right = "bot_admin" if for_default else "pick_model"
    if not await rights.may(right):
        await query.answer(t(rights.refusal(right), lang), show_alert=True)
        return
    if callback_data.tag == USE_DEFAULT and not for_default:
        await models.set_chat(turn.chat_id, None)
        await query.answer()
        await notices.notify(turn, t("model_chat_reset", lang))
        return
    model = next((m for m in await models.available() if model_tag(m) == callback_data.tag), None)
    if model is None or not await _choose(models, turn, model, for_default):
        await query.answer(t("model_gone", lang), show_alert=True)
        return
    await query.answer()
    key = "model_set_default" if for_default else "model_set_chat"
    await notices.notify(turn, t(key, lang, model=model))


async def _choose(models: ModelResolver, turn: Turn, model: str, for_default: bool) -> bool:
    if for_default:
        return await models.set_default(model)
    return await models.set_chat(turn.chat_id, model)


def router() -> Router:
    models = Router(name="models")
    models.message.register(cmd_model, Command("model"))
    models.callback_query.register(on_model_button, ChatModelButton.filter())
    models.callback_query.register(on_model_button, DefaultModelButton.filter())
    return models
