"""Start-up checks: each failure is one line that names the setting to fix."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramNotFound,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from openai import APIConnectionError, APIStatusError, AsyncOpenAI, AuthenticationError

from bot import __version__
from bot.adapters.redis_client import RedisClient
from bot.config import Settings

log = logging.getLogger("bot.startup")


class StartupError(Exception):
    """A start-up problem the operator fixes in the configuration or the network."""


async def check_telegram(bot: Bot, settings: Settings) -> str:
    """getMe with a short timeout; returns the bot's @username."""
    url = settings.telegram_api_url
    log.info("connecting to Telegram at %s (gonka-telegram-bot %s)", url, __version__)
    timeout = settings.startup_timeout
    try:
        me = await asyncio.wait_for(bot.get_me(request_timeout=int(timeout) or 1), timeout + 1)
    except TelegramUnauthorizedError:
        raise StartupError(
            "BOT_TOKEN was refused by Telegram (Unauthorized): copy the token again from "
            "@BotFather (/mybots, API Token)"
        ) from None
    except TelegramNotFound:
        raise StartupError(
            f"TELEGRAM_API_URL={url} answered 404: is it a Bot API server? "
            "(unset it for https://api.telegram.org)"
        ) from None
    except (TelegramNetworkError, TelegramServerError, TimeoutError, OSError) as exc:
        raise StartupError(
            f"cannot reach Telegram at {url} ({_reason(exc, timeout)}): check the network, "
            "a proxy or TELEGRAM_API_URL"
        ) from None
    return f"@{me.username}"


async def check_telegram_alone(settings: Settings) -> None:
    """check_telegram before anything else is built, so that a failure is the first thing said."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    bot = Bot(settings.bot_token.get_secret_value(), session=session)
    try:
        await check_telegram(bot, settings)
    finally:
        await session.close()


async def check_gonka(llm: AsyncOpenAI, settings: Settings) -> str:
    """The live model list (public on Gonka's proxy), then a one-token answer: the key."""
    url = settings.gonka_base_url
    timeout = settings.startup_timeout
    try:
        page = await asyncio.wait_for(llm.models.list(), timeout)
        names = [model.id for model in page.data]
        model = settings.gonka_model if settings.gonka_model in names or not names else names[0]
        await asyncio.wait_for(
            llm.chat.completions.create(
                model=model, messages=[{"role": "user", "content": "ping"}], max_tokens=1
            ),
            timeout,
        )
    except AuthenticationError:
        raise StartupError(f"GONKA_API_KEY was refused by {url} (401 Unauthorized)") from None
    except APIStatusError as exc:
        what = "GONKA_API_KEY has no balance" if exc.status_code == 402 else "GONKA_BASE_URL"
        raise StartupError(f"{what}: {url} answered {exc.status_code}") from None
    except (APIConnectionError, TimeoutError, OSError) as exc:
        raise StartupError(
            f"cannot reach Gonka at {url} ({_reason(exc, timeout)}): check the network or "
            "GONKA_BASE_URL"
        ) from None
    listed = "listed" if settings.gonka_model in names else f"NOT listed ({model} is used)"
    return f"{len(names)} models, GONKA_MODEL {listed}, the key answers"


async def check_redis(redis: RedisClient, settings: Settings) -> str:
    """PING within the start-up timeout."""
    try:
        await asyncio.wait_for(redis.ping(), settings.startup_timeout)
    except Exception as exc:  # redis-py raises many kinds; all mean the same here
        raise StartupError(
            f"cannot reach Redis at REDIS_URL ({_reason(exc, settings.startup_timeout)})"
        ) from None
    return "PING answered"


def check_data_dir(data_dir: Path) -> None:
    """DATA_DIR takes writes: a probe file is written, synced, renamed and removed there. An
    existing directory on a read-only mount, or a full disk, stops the start, not hours later."""
    staged, probe = data_dir / ".write-probe.tmp", data_dir / ".write-probe"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with staged.open("wb") as file:
            file.write(b"gonka-telegram-bot checks that DATA_DIR takes writes\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(staged, probe)
        probe.unlink()
    except OSError as exc:
        raise StartupError(data_dir_error(data_dir, exc)) from None


def data_dir_error(data_dir: Path, exc: Exception) -> str:
    """One line naming DATA_DIR and why it cannot be used."""
    reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
    return (
        f"DATA_DIR={data_dir}: {reason}. Set DATA_DIR to a writable directory "
        "(or REDIS_URL to a Redis server)."
    )


def _reason(exc: BaseException, timeout: float) -> str:
    """The kind of a network failure, never its text (it may carry a URL with the token)."""
    if isinstance(exc, TimeoutError) or "timeout" in str(exc).lower():
        return f"no answer within {timeout:g} s"
    cause = exc.__cause__ or exc.__context__
    kind = type(cause if cause is not None else exc).__name__
    return kind
