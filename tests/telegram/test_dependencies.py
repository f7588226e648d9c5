"""The start-up check of handler dependencies: every parameter a handler or filter names is
provided with a type its annotation takes, or the dispatcher is not built."""

from __future__ import annotations

import pytest
from aiogram import Dispatcher, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.app import build_app
from bot.config import Settings
from bot.core.access import Gate
from bot.core.stats import StatsService
from bot.telegram.buttons import ChatModelButton, StopButton
from bot.telegram.context import ContextMiddleware
from bot.telegram.dependencies import DependencyError, check_dependencies
from bot.telegram.notices import Notices
from bot.telegram.rights import Holds, Rights
from bot.telegram.turn import Turn


class FakeNotices(Notices):
    def __init__(self) -> None:  # no Bot: only its type matters here
        pass


def _dispatcher(*handlers: object, with_context: bool = True, **workflow: object) -> Dispatcher:
    dispatcher = Dispatcher(notices=FakeNotices(), price=1.5, tools=None, **workflow)
    if with_context:
        dispatcher.update.outer_middleware(ContextMiddleware(None, None))  # type: ignore[arg-type]
    router = Router(name="r")
    for handler in handlers:
        router.message.register(handler, Command("x"))  # type: ignore[arg-type]
    dispatcher.include_router(router)
    return dispatcher


async def well_fed(
    message: Message, command: CommandObject, turn: Turn, lang: str, rights: Rights,
    notices: Notices, price: float, tools: object | None, bot: object, later: int = 0,
) -> None: ...  # fmt: skip


async def wants_stats(message: Message, stats: StatsService) -> None: ...


async def wrong_type(message: Message, notices: Gate) -> None: ...


async def not_none(message: Message, tools: Gate) -> None: ...


async def wants_a_button(query: CallbackQuery, callback_data: ChatModelButton) -> None: ...


def test_what_is_provided_passes() -> None:
    check_dependencies(_dispatcher(well_fed))


def test_a_missing_dependency_fails_the_start() -> None:
    with pytest.raises(DependencyError, match="wants_stats: nothing provides 'stats'"):
        check_dependencies(_dispatcher(well_fed, wants_stats))
    # What a middleware provides is known only when the middleware is there.
    with pytest.raises(DependencyError, match="nothing provides 'turn'"):
        check_dependencies(_dispatcher(well_fed, with_context=False))


def test_a_mistyped_dependency_fails_the_start() -> None:
    with pytest.raises(DependencyError, match="wrong_type: 'notices' is FakeNotices, not Gate"):
        check_dependencies(_dispatcher(wrong_type))
    with pytest.raises(DependencyError, match="'tools' is NoneType, not Gate"):
        check_dependencies(_dispatcher(not_none))


def test_filters_provide_and_are_checked_too() -> None:
    dispatcher = _dispatcher()
    router = Router(name="buttons")
    router.callback_query.register(wants_a_button, ChatModelButton.filter())
    dispatcher.include_router(router)
    check_dependencies(dispatcher)
    router.callback_query.register(wants_a_button, StopButton.filter())  # gives a StopButton
    with pytest.raises(DependencyError, match="'callback_data' is StopButton"):
        check_dependencies(dispatcher)
    plain = _dispatcher()
    plain.sub_routers[0].message.register(well_fed)  # no Command filter: no `command`
    with pytest.raises(DependencyError, match="nothing provides 'command'"):
        check_dependencies(plain)
    guarded = _dispatcher(with_context=False)
    guarded.message.filter(Holds("bot_admin"))  # its `rights` has a default: fine
    check_dependencies(guarded)


def test_the_bots_dispatcher_passes() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token="1:A",
        gonka_api_key="k",
        redis_url=None,
        data_dir=None,
    )
    check_dependencies(build_app(settings).dispatcher)  # build_dispatcher checks it too
