"""Every inline button's data, built and parsed by one CallbackData class each.

Telegram gives a button at most 64 bytes of data: answers are named by their short generation
id, models by a short hash of their name. A press is only a claim: handlers check it."""

from __future__ import annotations

import hashlib

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

USE_DEFAULT = "-"  # the model tag of "use the default model"


class StopButton(CallbackData, prefix="stop"):
    """Stop the answer being generated (its author only)."""

    generation: str


class ContinueButton(CallbackData, prefix="cont"):
    """Continue the answer cut by the length limit (while it is the chat's latest)."""

    generation: str


class RegenerateButton(CallbackData, prefix="rg"):
    """Answer the chat's last question again (the asker, or a group's admin); `serial`: its
    regenerations when the button was made (a press naming an older one was already done)."""

    answer: str
    serial: int


class VariantButton(CallbackData, prefix="vr"):
    """Show variant `index` of the chat's last answer (the history keeps the one shown)."""

    answer: str
    index: int


class RedoButton(CallbackData, prefix="rd"):
    """Answer an edited older question again, dropping the turns after it (its asker only)."""

    message: int


class ModeButton(CallbackData, prefix="mo"):
    """Switch the chat's mode (a group's admins only)."""

    id: str


class ChatModelButton(CallbackData, prefix="mc"):
    """Choose the chat's model (`tag`: model_tag of its name, or USE_DEFAULT)."""

    tag: str


class DefaultModelButton(CallbackData, prefix="md"):
    """Choose every chat's default model (bot admins only)."""

    tag: str


def model_tag(model: str) -> str:
    return hashlib.sha1(model.encode(), usedforsecurity=False).hexdigest()[:10]


def one_button(text: str, data: CallbackData) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=text, callback_data=data.pack())]]
    )


def answer_markup(
    regenerate_text: str,
    answer_id: str,
    serial: int,
    variant: tuple[int, int] = (0, 1),
    go_on: tuple[str, str] | None = None,
) -> InlineKeyboardMarkup:
    """The keyboard under a finished answer: Continue (`go_on`: its text and the generation to
    continue) and 🔄, then "‹ 2/3 ›" when the answer has variants (`variant`: the one shown,
    how many)."""
    first = []
    if go_on is not None:
        data = ContinueButton(generation=go_on[1]).pack()
        first.append(InlineKeyboardButton(text=go_on[0], callback_data=data))
    data = RegenerateButton(answer=answer_id, serial=serial).pack()
    first.append(InlineKeyboardButton(text=regenerate_text, callback_data=data))
    rows = [first]
    shown, count = variant
    if count > 1:
        labels = (("‹", shown - 1), (f"{shown + 1}/{count}", shown), ("›", shown + 1))
        rows.append(
            [
                InlineKeyboardButton(
                    text=label,
                    callback_data=VariantButton(answer=answer_id, index=index % count).pack(),
                )
                for label, index in labels
            ]
        )
    return InlineKeyboardMarkup(inline_keyboard=rows)
