"""Start-up checks: each failure is one line that names the setting to fix.

They speak plain HTTP through aiohttp: importing aiogram and the openai SDK costs seconds of CPU,
and `python -m bot check` must finish in a few seconds (the bot's own start says a Telegram
problem before importing them, too)."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import re
import socket
import ssl
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any

import aiohttp

from bot import __version__
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
BODY_LIMIT = 256 * 1024  # what a check reads of an answer at most


class StartupError(Exception):
    """A start-up problem the operator fixes in the configuration or the network."""


async def _call(
    session: aiohttp.ClientSession, method: str, url: str, seconds: float, **kwargs: Any
) -> tuple[int, str]:
    """One request within `seconds`: the status and (at most BODY_LIMIT of) the body."""
    async with asyncio.timeout(seconds), session.request(method, url, **kwargs) as response:
        body = await response.content.read(BODY_LIMIT)
        return response.status, body.decode(errors="replace")


async def check_telegram(session: aiohttp.ClientSession, settings: Settings) -> str:
    """getMe with a short timeout; returns the bot's @username."""
    url = settings.telegram_api_url
    token = settings.bot_token.get_secret_value()
    timeout = settings.startup_timeout
    try:
        status, body = await _call(session, "POST", f"{url.rstrip('/')}/bot{token}/getMe", timeout)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise StartupError(
            f"cannot reach Telegram at {url} ({failure_kind(exc, timeout)}): check the network, "
            "a proxy or TELEGRAM_API_URL"
        ) from None
    if status == 401:
        raise StartupError(
            "BOT_TOKEN was refused by Telegram (Unauthorized): copy the token again from "
            "@BotFather (/mybots, API Token)"
        )
    answer = _json(body)
    result = answer.get("result") if isinstance(answer, dict) else None
    if status == 404 or not isinstance(result, dict) or "username" not in result:
        raise StartupError(
            f"TELEGRAM_API_URL={url} answered {status}: is it a Bot API server? "
            "(unset it for https://api.telegram.org)"
        )
    return f"@{result['username']}"


async def check_telegram_alone(settings: Settings) -> None:
    """check_telegram before anything else is built, so that a failure is the first thing said."""
    log.info(
        "connecting to Telegram at %s (gonka-telegram-bot %s)",
        settings.telegram_api_url,
        __version__,
    )
    async with aiohttp.ClientSession() as session:
        await check_telegram(session, settings)


async def check_gonka(session: aiohttp.ClientSession, settings: Settings) -> str:
    """The live model list (public on Gonka's proxy), then a one-token answer: the key."""
    names = await _models(session, settings)
    model = settings.gonka_model if settings.gonka_model in names or not names else names[0]
    ping = {"model": model, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 1}
    status, body = await _gonka(session, settings, "POST", "/chat/completions", ping)
    if status != 200:
        raise StartupError(gonka_status_problem(settings.gonka_base_url, status, body))
    listed = "listed" if settings.gonka_model in names else f"NOT listed ({model} is used)"
    return f"{len(names)} models, GONKA_MODEL {listed}, the key answers"


async def gonka_problem(settings: Settings) -> str | None:
    """At `run`: what to fix about Gonka, in one line, or None. Costs no generation: the model
    list (the URL), then a request the upstream judges only after the key (an empty body:
    refused with 400 when the key is good; 401, or LiteLLM's 400 "No connected db.", when not)."""
    try:
        async with aiohttp.ClientSession() as session:
            await _models(session, settings)
            status, body = await _gonka(session, settings, "POST", "/chat/completions", [])
    except StartupError as exc:
        return str(exc)
    judged = status in (400, 422) and not _KEY_REFUSED.search(body)
    if status == 200 or judged:
        return None
    return gonka_status_problem(settings.gonka_base_url, status, body)


async def _models(session: aiohttp.ClientSession, settings: Settings) -> list[str]:
    status, body = await _gonka(session, settings, "GET", "/models")
    if status != 200:
        raise StartupError(gonka_status_problem(settings.gonka_base_url, status, body))
    answer = _json(body)
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, list):
        raise StartupError(
            f"GONKA_BASE_URL: {settings.gonka_base_url}/models is not a model list: "
            "is it an OpenAI-compatible /v1 URL?"
        )
    return [str(m["id"]) for m in data if isinstance(m, dict) and m.get("id")]


async def _gonka(
    session: aiohttp.ClientSession, settings: Settings, method: str, path: str, body: object = None
) -> tuple[int, str]:
    url, timeout = settings.gonka_base_url, settings.startup_timeout
    headers = {"Authorization": f"Bearer {settings.gonka_api_key.get_secret_value()}"}
    try:
        return await _call(
            session, method, url.rstrip("/") + path, timeout, headers=headers,
            json=body if method == "POST" else None,
        )  # fmt: skip
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise StartupError(
            f"cannot reach Gonka at {url} ({failure_kind(exc, timeout)}): check the network or "
            "GONKA_BASE_URL"
        ) from None


def gonka_status_problem(url: str, status: int, body: str) -> str:
    """The variable to fix for an error status of the upstream, in one line."""
    if status in (401, 403) or (status == 400 and _KEY_REFUSED.search(body)):
        said = " No connected db." if "no connected db" in body.lower() else ""
        return (
            f"GONKA_API_KEY was refused by {url} (authentication failed: HTTP {status}{said}): "
            "check the key"
        )
    if status == 402:
        return f"GONKA_API_KEY has no balance: {url} answered 402"
    return f"GONKA_BASE_URL: {url} answered {status}: is it an OpenAI-compatible /v1 URL?"


async def check_redis(ping: Awaitable[object], settings: Settings) -> str:
    """PING within the start-up timeout."""
    try:
        await asyncio.wait_for(ping, settings.startup_timeout)
    except Exception as exc:  # redis-py raises many kinds; all mean the same here
        raise StartupError(
            f"cannot reach Redis at REDIS_URL ({failure_kind(exc, settings.startup_timeout)})"
        ) from None
    return "PING answered"


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


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
        os_error = getattr(current, "os_error", None)  # aiohttp's connector errors keep it
        if isinstance(os_error, OSError):
            yield os_error
        current = current.__cause__ or current.__context__


async def run_checks(settings: Settings) -> list[tuple[str, str | None, str]]:
    """`python -m bot check`: every check at once, each (name, None or its problem, its result).
    Nothing else is built (the bot itself is not started): fast, and nothing is written."""
    from bot.adapters.tools.mcp_config import McpConfigError, load_mcp_config

    async def mcp() -> str:
        assert settings.mcp_servers_file is not None
        try:
            servers = load_mcp_config(settings.mcp_servers_file)
        except McpConfigError as exc:
            raise StartupError(str(exc)) from None
        return f"{len(servers)} server(s) in {settings.mcp_servers_file}"

    redis = None
    async with aiohttp.ClientSession() as session:
        steps = {"telegram": check_telegram(session, settings)}
        steps["gonka"] = check_gonka(session, settings)
        if settings.redis_url:
            from bot.adapters.redis_client import connect

            redis = connect(settings.redis_url)
            steps["redis"] = check_redis(redis.ping(), settings)
        if settings.mcp_servers_file is not None:
            steps["mcp"] = mcp()
        try:
            results = await asyncio.gather(*steps.values(), return_exceptions=True)
        finally:
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
