"""Entry point: `python -m bot` runs the bot (long polling, or a webhook when WEBHOOK_URL is set);
`python -m bot check` (or `--check`) checks the configuration and every service, then exits."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
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


async def check(settings: Settings, redact: Callable[[str], str]) -> int:
    """`python -m bot check`: exactly one line per check; non-zero when any failed."""
    from bot.startup import run_checks

    failed = 0
    for name, problem, result in await run_checks(settings):
        if problem is None:
            print(redact(f"ok    {name}: {result}"))
        else:
            failed += 1
            print(redact(f"FAIL  {name}: {problem}"))
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

    # `check` says one line per check: its library noise (and the SDK's retries) stays quiet.
    level = settings.log_level if not argv or settings.log_level == "DEBUG" else "ERROR"
    redact = configure_logging(level, settings.secrets())
    if not argv:  # `check` speaks plain HTTP: no aiogram (~1.3 s of CPU), no openai
        from bot import lazy_aiogram, lazy_openai

        lazy_aiogram.install()  # before anything imports aiogram: its types build on first use
        lazy_openai.install()  # and openai's type packages import on first use
    from bot.adapters.store_file import StoreNotSaved  # no fakeredis: `check` never uses it
    from bot.startup import StartupError

    try:
        if argv:
            return run_loop(check(settings, redact))
        run_loop(serve(settings))
    except (StartupError, StoreNotSaved) as exc:
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
