"""Start-up checks: each failure is one line that names the setting to fix."""

from __future__ import annotations

import asyncio
import errno
import logging
import re
import socket
import ssl
from collections.abc import Iterator

import httpx2
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramNotFound,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from openai import APIConnectionError, APIStatusError, AsyncOpenAI

from bot import __version__
from bot.adapters.gonka_errors import read_body
from bot.adapters.redis_client import RedisClient
from bot.config import Settings

log = logging.getLogger("bot.startup")

# Name-resolution failures as the resolver words them (a wrapper may keep only the text).
_DNS = re.compile(
    r"name or service not known|nodename nor servname|temporary failure in name resolution|"
    r"no address associated|getaddrinfo failed|name resolution",
    re.IGNORECASE,
)
# LiteLLM without a database answers a wrong key with 400 no_db_connection, not 401.
_KEY_REFUSED = re.compile(r"no_db_connection|no connected db|invalid api key|api key", re.I)


class StartupError(Exception):
    """A start-up problem the operator fixes in the configuration or the network."""


async def check_telegram(bot: Bot, settings: Settings) -> str:
    """getMe with a short timeout; returns the bot's @username."""
    url = settings.telegram_api_url
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
            f"cannot reach Telegram at {url} ({failure_kind(exc, timeout)}): check the network, "
            "a proxy or TELEGRAM_API_URL"
        ) from None
    return f"@{me.username}"


async def check_telegram_alone(settings: Settings) -> None:
    """check_telegram before anything else is built, so that a failure is the first thing said."""
    log.info(
        "connecting to Telegram at %s (gonka-telegram-bot %s)",
        settings.telegram_api_url,
        __version__,
    )
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    bot = Bot(settings.bot_token.get_secret_value(), session=session)
    try:
        await check_telegram(bot, settings)
    finally:
        await session.close()


async def check_gonka(llm: AsyncOpenAI, settings: Settings) -> str:
    """The live model list (public on Gonka's proxy), then a one-token answer: the key.
    One attempt each (the SDK's own retries would only repeat the failure, and log it)."""
    url = settings.gonka_base_url
    timeout = settings.startup_timeout
    llm = llm.with_options(max_retries=0, timeout=timeout)
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
    except APIStatusError as exc:
        raise StartupError(gonka_status_problem(url, exc)) from None
    except (APIConnectionError, TimeoutError, OSError) as exc:
        raise StartupError(
            f"cannot reach Gonka at {url} ({failure_kind(exc, timeout)}): check the network or "
            "GONKA_BASE_URL"
        ) from None
    listed = "listed" if settings.gonka_model in names else f"NOT listed ({model} is used)"
    return f"{len(names)} models, GONKA_MODEL {listed}, the key answers"


def gonka_status_problem(url: str, exc: APIStatusError) -> str:
    """The variable to fix for an error status of the upstream, in one line."""
    status = exc.status_code
    body = read_body(exc.body)
    if status in (401, 403) or (status == 400 and _KEY_REFUSED.search(body.text)):
        said = " No connected db." if "no connected db" in body.text.lower() else ""
        return (
            f"GONKA_API_KEY was refused by {url} (authentication failed: HTTP {status}{said}): "
            "check the key"
        )
    if status == 402:
        return f"GONKA_API_KEY has no balance: {url} answered 402"
    return f"GONKA_BASE_URL: {url} answered {status}: is it an OpenAI-compatible /v1 URL?"


async def gonka_problem(llm: AsyncOpenAI, settings: Settings) -> str | None:
    """At `run`: what to fix about Gonka, in one line, or None. Costs no generation: the model
    list (the URL), then a request the upstream judges only after the key (an empty body:
    refused with 400 when the key is good, 401 or LiteLLM's 400 "No connected db." when not)."""
    url, timeout = settings.gonka_base_url, settings.startup_timeout
    client = llm.with_options(max_retries=0, timeout=timeout)
    try:
        await asyncio.wait_for(client.models.list(), timeout)
        await asyncio.wait_for(
            client.post("/chat/completions", body=[], cast_to=httpx2.Response), timeout
        )
    except APIStatusError as exc:
        judged = exc.status_code in (400, 422) and not _KEY_REFUSED.search(read_body(exc.body).text)
        return None if judged else gonka_status_problem(url, exc)
    except (APIConnectionError, TimeoutError, OSError) as exc:
        return (
            f"cannot reach Gonka at {url} ({failure_kind(exc, timeout)}): check the network or "
            "GONKA_BASE_URL"
        )
    return None


async def check_redis(redis: RedisClient, settings: Settings) -> str:
    """PING within the start-up timeout."""
    try:
        await asyncio.wait_for(redis.ping(), settings.startup_timeout)
    except Exception as exc:  # redis-py raises many kinds; all mean the same here
        raise StartupError(
            f"cannot reach Redis at REDIS_URL ({failure_kind(exc, settings.startup_timeout)})"
        ) from None
    return "PING answered"


def failure_kind(exc: BaseException, timeout: float) -> str:
    """What kind of network failure this is (DNS, refused, timeout, TLS), from the whole chain
    of causes; never the error's text (it may carry a URL with the token)."""
    chain = list(_causes(exc))
    if any(isinstance(e, socket.gaierror) or _DNS.search(str(e)) for e in chain):
        return "DNS: the host name does not resolve"
    if any(_refused(e) for e in chain):
        return "connection refused: nothing listens at that address"
    if any(isinstance(e, ssl.SSLError) for e in chain):
        return "TLS handshake failed"
    if any(isinstance(e, TimeoutError) or "Timeout" in type(e).__name__ for e in chain):
        return f"no answer within {timeout:g} s"
    return type(chain[-1]).__name__


def _refused(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionRefusedError):
        return True
    if isinstance(exc, OSError) and exc.errno == errno.ECONNREFUSED:
        return True
    return "connect call failed" in str(exc).lower() or "connection refused" in str(exc).lower()


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


async def run_checks(settings: Settings) -> list[tuple[str, str | None, str]]:
    """`python -m bot check`: every check at once, each (name, None or its problem, its result).
    Nothing else is built (the bot itself is not started): fast, and nothing is written."""
    from bot.adapters.redis_client import connect
    from bot.adapters.tools.mcp_config import McpConfigError, load_mcp_config

    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    bot = Bot(settings.bot_token.get_secret_value(), session=session)
    llm = AsyncOpenAI(
        api_key=settings.gonka_api_key.get_secret_value(),
        base_url=settings.gonka_base_url,
        max_retries=0,
        timeout=settings.startup_timeout,
    )
    redis = connect(settings.redis_url) if settings.redis_url else None

    async def mcp() -> str:
        assert settings.mcp_servers_file is not None
        try:
            servers = load_mcp_config(settings.mcp_servers_file)
        except McpConfigError as exc:
            raise StartupError(str(exc)) from None
        return f"{len(servers)} server(s) in {settings.mcp_servers_file}"

    steps = {"telegram": check_telegram(bot, settings), "gonka": check_gonka(llm, settings)}
    if redis is not None:
        steps["redis"] = check_redis(redis, settings)
    if settings.mcp_servers_file is not None:
        steps["mcp"] = mcp()
    try:
        results = await asyncio.gather(*steps.values(), return_exceptions=True)
    finally:
        await session.close()
        await llm.close()
        if redis is not None:
            await redis.aclose()
    lines: list[tuple[str, str | None, str]] = []
    for name, result in zip(steps, results, strict=True):
        if isinstance(result, StartupError):
            lines.append((name, str(result), ""))
        elif isinstance(result, BaseException):
            raise result
        else:
            lines.append((name, None, result))
    return lines
