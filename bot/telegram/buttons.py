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
