"""The HTTP client shared by the tools that call public JSON APIs."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp

from bot.core.tools import ToolError

log = logging.getLogger(__name__)

USER_AGENT = "gonka-telegram-bot/0.1 (tools)"
MAX_JSON_BYTES = 2 * 1024 * 1024


def tool_session(timeout: float = 10.0) -> aiohttp.ClientSession:
    """A session for public APIs: a total timeout per request, no proxies from the environment."""
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout),
        headers={"User-Agent": USER_AGENT},
        trust_env=False,
    )


async def get_json(
    session: aiohttp.ClientSession, url: str, params: Mapping[str, str | int | float], service: str
) -> Any:
    """GET `url` and return its JSON body; any failure becomes a ToolError naming `service`."""
    try:
        async with session.get(url, params=dict(params), allow_redirects=False) as response:
            body = await read_limited(response.content, MAX_JSON_BYTES)
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("tool http failed service=%s error=%s", service, type(exc).__name__)
        raise ToolError(f"{service} could not be reached ({type(exc).__name__}).") from exc
    if body is None:
        raise ToolError(f"{service} sent an answer too large to read.")
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    if status != 200:
        reason = data.get("reason") if isinstance(data, dict) else None
        log.warning("tool http status service=%s status=%d", service, status)
        detail = f": {str(reason)[:200]}" if reason else ""
        raise ToolError(f"{service} answered HTTP {status}{detail}.")
    if data is None:
        raise ToolError(f"{service} sent an answer that is not JSON.")
    return data


async def read_limited(content: aiohttp.StreamReader, limit: int) -> bytes | None:
    """The whole body, read as it arrives; None once it passes `limit` bytes (the rest is
    never read). One `read` returns only what has arrived so far."""
    body = bytearray()
    while len(body) <= limit:
        chunk = await content.read(limit + 1 - len(body))
        if not chunk:
            return bytes(body)
        body += chunk
    return None
