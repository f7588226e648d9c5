"""Entry point: `python -m bot` runs the bot (long polling, or a webhook when WEBHOOK_URL is set);
`python -m bot check` (or `--check`) checks the configuration and every service, then exits."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from pydantic import ValidationError
from pydantic_settings import SettingsError

from bot import __version__

# Nothing here imports aiogram or openai (~4 s of CPU) before the settings are known good.
from bot.config import Settings, config_error

T = TypeVar("T")
USAGE = "usage: python -m bot [check | --version]"


def load_settings() -> Settings:
    """The settings, or exit with one line naming the variables to fix."""
    try:
        return Settings()  # type: ignore[call-arg,unused-ignore]
    except (ValidationError, SettingsError) as exc:
        sys.exit(config_error(exc))


async def serve(settings: Settings) -> None:
    """Check Telegram first (one clear line if it fails), then build the bot and run it."""
    from bot.startup import check_telegram_alone

    await check_telegram_alone(settings)
    from bot.app import build_app

    app = build_app(settings)
    try:
        await app.run()
    finally:
        await app.close()


async def check(settings: Settings) -> int:
    """`python -m bot check`: one line per service; non-zero when any failed."""
    from bot.app import build_app
    from bot.startup import StartupError, check_gonka, check_redis, check_telegram

    app = build_app(settings)
    checks: list[tuple[str, Callable[[], Awaitable[str]]]] = [
        ("telegram", lambda: check_telegram(app.bot, settings)),
        ("gonka", lambda: check_gonka(app.llm, settings)),
    ]
    if settings.redis_url:
        checks.append(("redis", lambda: check_redis(app.redis, settings)))
    failed = 0
    try:
        for name, step in checks:
            try:
                print(f"ok    {name}: {await step()}")
            except StartupError as exc:
                failed += 1
                print(f"FAIL  {name}: {exc}")
    finally:
        await app.close()
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if argv == ["--version"]:
        print(f"gonka-telegram-bot {__version__}")
        return 0
    if argv not in ([], ["check"], ["--check"]):
        print(USAGE, file=sys.stderr)
        return 2
    settings = load_settings()
    from bot.logging_setup import configure_logging

    redact = configure_logging(settings.log_level, settings.secrets())
    from bot.lazy_aiogram import install

    install()  # before anything imports aiogram: its types build on first use
    from bot.startup import StartupError

    try:
        if argv:
            return run_loop(check(settings))
        run_loop(serve(settings))
    except StartupError as exc:
        print(redact(f"error: {exc}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def run_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on uvloop where it is installed (Linux, macOS), else on asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
