"""The start-up check of what handlers are given by name.

aiogram gives a handler (and a filter) each keyword it names from the update's data: the
dispatcher's workflow items (`Dispatcher(service=..., notices=...)`), what the middlewares put
(each declares it in `provides`), what aiogram itself and the matched filters give (`bot`,
`command`, `callback_data`). mypy cannot see that link, so `check_dependencies` walks every
router's handlers and filters when the dispatcher is built: a parameter nobody provides (and
without a default) or whose annotation does not take what is provided fails the start.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from aiogram import Bot, Dispatcher, Router
from aiogram.dispatcher.event.handler import CallableObject, HandlerObject
from aiogram.dispatcher.middlewares.user_context import EventContext
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import Chat, Update, User

# What aiogram puts into every update's data (aiogram.dispatcher.middlewares.data).
AIOGRAM: dict[str, Any] = {
    "dispatcher": Dispatcher, "bot": Bot, "bots": list, "event_update": Update,
    "event_router": Router, "handler": HandlerObject, "event_context": EventContext,
    "event_from_user": User, "event_chat": Chat, "event_thread_id": int,
    "event_business_connection_id": str, "fsm_storage": BaseStorage, "state": FSMContext,
    "raw_state": str | None,
}  # fmt: skip


class DependencyError(Exception):
    """Handlers that name what nobody provides, or provides with another type."""


def check_dependencies(dispatcher: Dispatcher) -> None:
    """Raise DependencyError listing every handler or filter parameter that is not provided
    (and has no default) or is provided with a type its annotation does not take."""
    provided: dict[str, Any] = dict(AIOGRAM)
    for middleware in dispatcher.update.outer_middleware:  # where ours are
        provided.update(getattr(middleware, "provides", {}))
    provided.update((name, type(value)) for name, value in dispatcher.workflow_data.items())
    problems = [
        problem
        for router in dispatcher.chain_tail
        for observer in router.observers.values()
        for handler in (*observer.handlers, observer._handler)  # _handler: the router's filters
        for problem in _problems(handler, provided, router.name)
    ]
    if problems:
        raise DependencyError("handler dependencies: " + "; ".join(dict.fromkeys(problems)))


def _problems(handler: HandlerObject, provided: Mapping[str, Any], where: str) -> Iterator[str]:
    given = dict(provided)
    for flt in handler.filters or ():
        given.update(_filter_gives(flt.callback))
        yield from _check(flt, provided, where)  # a filter is given what comes before it
    yield from _check(handler, given, where)


def _filter_gives(callback: Callable[..., Any]) -> dict[str, Any]:
    if isinstance(callback, CallbackQueryFilter):
        return {"callback_data": callback.callback_data}
    return {"command": CommandObject} if isinstance(callback, Command) else {}


def _check(target: CallableObject, provided: Mapping[str, Any], where: str) -> Iterator[str]:
    function = target.callback
    if not target.params or type(function).__module__.startswith("aiogram."):
        return  # aiogram's own filters take only what aiogram gives
    plain = inspect.isfunction(function) or inspect.ismethod(function)
    call: Callable[..., Any] = function if plain else type(function).__call__
    name = f"{where}:{getattr(function, '__qualname__', type(function).__qualname__)}"
    try:
        hints = get_type_hints(call)
    except Exception as exc:  # an annotation that names what is not imported at run time
        yield f"{name}: annotations not resolvable ({exc})"
        return
    parameters = list(inspect.signature(call).parameters.values())
    first = 1 if call is not function else 0  # a filter's `self`
    for parameter in parameters[first + 1 :]:  # the event comes first, by position
        if parameter.kind not in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            continue
        kind = provided.get(parameter.name)
        wanted = hints.get(parameter.name, Any)
        if kind is None:
            if parameter.default is parameter.empty:
                yield f"{name}: nothing provides {parameter.name!r}"
        elif not _takes(wanted, kind):
            yield f"{name}: {parameter.name!r} is {_shown(kind)}, not {_shown(wanted)}"


def _takes(annotation: Any, kind: Any) -> bool:
    """Whether a parameter annotated `annotation` takes a value of type `kind` (or of each
    member of `kind` when it is a union)."""
    if annotation is Any:
        return True
    if get_origin(kind) in (Union, types.UnionType):
        return all(_takes(annotation, member) for member in get_args(kind))
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return any(_takes(member, kind) for member in get_args(annotation))
    if origin is Literal:
        return all(isinstance(value, kind) for value in get_args(annotation))
    target = origin or annotation
    origin_kind = get_origin(kind) or kind
    if not isinstance(target, type) or not isinstance(origin_kind, type):
        return False
    if getattr(target, "_is_protocol", False):  # by its methods, as mypy would
        return all(hasattr(origin_kind, member) for member in _members(target))
    return issubclass(origin_kind, target)


def _members(protocol: type) -> set[str]:
    bases = (base for base in protocol.__mro__ if getattr(base, "_is_protocol", False))
    return {name for base in bases for name in vars(base) if not name.startswith("_")}


def _shown(kind: Any) -> str:
    return getattr(kind, "__name__", None) or str(kind)
