"""Import aiogram with each Telegram type's pydantic schema built on first use, not at import.

aiogram declares its ~700 types with `defer_build=True`, then its `aiogram/types/__init__.py` calls
`model_rebuild(_types_namespace=...)` on every one of them at import: ~2 s of CPU and ~100 MiB for
schemas a bot mostly never uses (aiogram issues #1513, #1891). `install()` imports aiogram with those
calls turned into a note of the namespace they were given: each type keeps it as its pydantic parent
namespace, and pydantic's own first-use build (on the first validation, construction or dump) resolves
the types' forward references in it, as the eager rebuild would have. Method classes and `Response[...]`
get the same namespace: their schemas nest the types.

Call `install()` before anything imports aiogram (`python -m bot` does, and so does the test suite).
Once aiogram is imported it is too late: `install()` then leaves the eagerly built types alone.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

_state: dict[str, Any] = {}


def install() -> bool:
    """Import aiogram with lazily built types; False if aiogram was already imported eagerly."""
    if "namespace" in _state:
        return True
    if "aiogram" in sys.modules:
        return False
    original = BaseModel.__dict__["model_rebuild"]
    noted: dict[str, dict[str, Any]] = {}

    def note_namespace(
        cls: type[BaseModel],
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Mapping[str, Any] | None = None,
    ) -> bool | None:
        if _is_deferred_type(cls) and _types_namespace is not None and not force:
            # One dict for all (aiogram passes the same one): a copy each would be ~700 x 36 KB.
            shared = noted.setdefault("namespace", dict(_types_namespace))
            cls.__pydantic_parent_namespace__ = shared
            return None
        return original.__func__(  # type: ignore[no-any-return]
            cls,
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=_parent_namespace_depth + 1,
            _types_namespace=_types_namespace,
        )

    BaseModel.model_rebuild = classmethod(note_namespace)  # type: ignore[assignment,method-assign]
    try:
        import aiogram  # noqa: F401
    finally:
        BaseModel.model_rebuild = original  # type: ignore[method-assign]
    if "namespace" not in noted:
        raise RuntimeError("aiogram no longer rebuilds its types at import: bot/lazy_aiogram.py")
    _state["namespace"] = noted["namespace"]
    _share_namespace(_state["namespace"])
    return True


def installed() -> bool:
    """Whether aiogram's types in this process are built on first use."""
    return "namespace" in _state


def _is_deferred_type(cls: type[BaseModel]) -> bool:
    return cls.__module__.startswith("aiogram.types.") and bool(cls.model_config.get("defer_build"))


def _share_namespace(namespace: dict[str, Any]) -> None:
    """Methods were built at import while the types they nest were not; they build on first use."""
    from aiogram import methods
    from aiogram.methods.base import Response

    Response.__pydantic_parent_namespace__ = namespace
    for name in methods.__all__:
        method = getattr(methods, name)
        model = isinstance(method, type) and issubclass(method, BaseModel)
        if model and not method.__pydantic_complete__:
            method.__pydantic_parent_namespace__ = namespace


# What every answer uses: built once at start, so the first answer does not pay for it.
HOT_METHODS = (
    "GetUpdates",
    "SendMessage",
    "EditMessageText",
    "SendMessageDraft",
    "SendRichMessage",
    "SendRichMessageDraft",
    "SendChatAction",
    "AnswerCallbackQuery",
)
HOT_TYPES = (
    "Update",
    "Message",
    "CallbackQuery",
    "InputRichMessage",
    "MessageEntity",
    "InlineKeyboardMarkup",
    "InlineKeyboardButton",
    "ReplyParameters",
    "LinkPreviewOptions",
)


def warm() -> None:
    """Build the schemas of an update and of the calls every answer makes (a first build of
    `Response[Message]` takes ~0.2-1 s; it would delay the first answer after a start)."""
    from aiogram import methods, types
    from aiogram.methods.base import Response

    for name in HOT_TYPES:
        getattr(types, name).model_rebuild()
    for name in HOT_METHODS:
        method = getattr(methods, name, None)
        if method is None:
            continue
        method.model_rebuild()
        Response[method.__returning__].model_rebuild()  # type: ignore[name-defined]
