"""Entry point: python -m bot (long polling, or a webhook when WEBHOOK_URL is set)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

from pydantic import ValidationError

from bot.app import build_app, configure_logging
from bot.config import Settings

T = TypeVar("T")


def load_settings() -> Settings:
    try:
        return Settings()  # type: ignore[call-arg,unused-ignore]
    except ValidationError as exc:
        missing = sorted(
            str(err["loc"][0]).upper() for err in exc.errors() if err["type"] == "missing"
        )
        if missing:
            sys.exit(
                f"Set {' and '.join(missing)} in the environment or in .env (see .env.example)."
            )
        sys.exit(f"Invalid configuration: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}")


async def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    app = build_app(settings)
    try:
        await app.run()
    finally:
        await app.close()


def run_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on uvloop where it is installed (Linux, macOS), else on asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


if __name__ == "__main__":
    run_loop(main())
