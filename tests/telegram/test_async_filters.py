"""aiogram runs a synchronous filter or handler with asyncio.to_thread, on the default executor:
a pool that CPU-heavy work once starved (issue 25). Every filter and handler is async."""

from __future__ import annotations

from aiogram import Router

from bot.app import build_app
from bot.config import Settings


def _routers(router: Router) -> list[Router]:
    return [router, *(r for sub in router.sub_routers for r in _routers(sub))]


def test_no_filter_or_handler_runs_on_a_thread() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token="1:A",
        gonka_api_key="k",
        redis_url=None,
        data_dir=None,
    )
    dispatcher = build_app(settings).dispatcher
    sync = []
    for router in _routers(dispatcher):
        for name, observer in router.observers.items():
            for handler in [observer._handler, *observer.handlers]:
                if handler is not observer._handler and not handler.awaitable:
                    sync.append(f"{router.name}.{name}: {handler.callback!r}")
                sync += [
                    f"{router.name}.{name}: filter {f.callback!r}"
                    for f in handler.filters or ()
                    if not f.awaitable
                ]
    assert sync == []
