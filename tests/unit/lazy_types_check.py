"""Run in a fresh interpreter (test_lazy_aiogram.py): aiogram's types must start unbuilt under
`bot.lazy_aiogram` and every one of them must build on first use. Prints one line per failure."""

from __future__ import annotations

import sys
from typing import Any

from pydantic import BaseModel

from bot.lazy_aiogram import install, installed

USER = {"id": 7, "is_bot": False, "first_name": "Ann", "language_code": "en"}
CHAT = {"id": 7, "type": "private", "first_name": "Ann"}
MESSAGE = {"message_id": 1, "date": 0, "chat": CHAT, "from": USER, "text": "/start hi"}
# One of each update kind the bot's handlers take, as Telegram sends them.
UPDATES: list[dict[str, Any]] = [
    {"update_id": 1, "message": MESSAGE},
    {"update_id": 2, "edited_message": {**MESSAGE, "edit_date": 1}},
    {"update_id": 3, "callback_query": {"id": "q", "from": USER, "chat_instance": "c",
                                        "message": MESSAGE, "data": "stop:1"}},
    {"update_id": 4, "my_chat_member": {
        "chat": {"id": -5, "type": "supergroup", "title": "G", "is_forum": True}, "from": USER,
        "date": 0, "old_chat_member": {"status": "left", "user": USER},
        "new_chat_member": {"status": "member", "user": USER}}},
    {"update_id": 5, "message": {**MESSAGE, "text": None, "caption": "read this",
                                 "document": {"file_id": "f", "file_unique_id": "u",
                                              "file_name": "a.pdf", "file_size": 10}}},
    {"update_id": 6, "message": {**MESSAGE, "text": None,
                                 "photo": [{"file_id": "p", "file_unique_id": "u", "width": 1,
                                            "height": 1}]}},
]  # fmt: skip


def models(module: Any) -> list[type[BaseModel]]:
    found = (getattr(module, name) for name in module.__all__)
    return [m for m in found if isinstance(m, type) and issubclass(m, BaseModel)]


def main(order: str) -> list[str]:
    """`order`: "updates" validates the updates first, "methods" builds methods' responses first:
    whichever comes first builds the types it nests from nothing."""
    if not install() or not installed():
        return ["aiogram was imported before bot.lazy_aiogram.install()"]
    from aiogram import methods, types
    from aiogram.methods import SendMessage, TelegramMethod

    lazy = (types.Update, types.Message, types.CallbackQuery, SendMessage)
    failures = [f"{m.__name__} was built at import" for m in lazy if m.__pydantic_complete__]
    if order == "updates":
        failures += [f"update {u}: {exc}" for u in UPDATES for exc in validate_update(u)]
    for method in models(methods):
        if issubclass(method, TelegramMethod) and method is not TelegramMethod:
            failures += [f"{method.__name__}'s response: {exc}" for exc in respond(method)]
    for model in [*models(methods), *models(types)]:
        failures += [f"{model.__name__}: {exc}" for exc in build(model)]
    if order == "methods":
        failures += [f"update {u}: {exc}" for u in UPDATES for exc in validate_update(u)]
    sent = SendMessage(chat_id=7, text="hi", reply_markup={"inline_keyboard": [[{"text": "Stop",
                                                                          "callback_data": "s"}]]})  # fmt: skip
    if sent.model_dump(warnings=False)["reply_markup"]["inline_keyboard"][0][0]["text"] != "Stop":
        failures.append("SendMessage did not serialize its keyboard")
    return failures


def validate_update(data: dict[str, Any]) -> list[str]:
    from aiogram.types import Update

    try:
        update = Update.model_validate(data)
        update.model_dump(warnings=False)
    except Exception as exc:  # reported: the test fails on it
        return [repr(exc)]
    return [] if update.event_type != "unknown" else ["unknown event type"]


def respond(method: type[BaseModel]) -> list[str]:
    """The response class aiogram's session builds for `method`'s answer."""
    from aiogram.methods.base import Response

    try:
        response = Response[method.__returning__]  # type: ignore[attr-defined,name-defined]
    except Exception as exc:  # reported: the test fails on it
        return [repr(exc)[:300]]
    return build(response)


def build(model: type[BaseModel]) -> list[str]:
    """Build as the first use does (pydantic's own rebuild, no namespace given)."""
    try:
        model.model_rebuild(raise_errors=True)
    except Exception as exc:  # reported: the test fails on it
        return [repr(exc)[:300]]
    return [] if model.__pydantic_complete__ else ["still unbuilt"]


if __name__ == "__main__":
    problems = main(sys.argv[1])
    print("\n".join(problems) or "ok")
    sys.exit(1 if problems else 0)
