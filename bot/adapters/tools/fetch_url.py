"""fetch_url(url): a public web page's readable text, never a page of the bot's own network.

The page is read here; its text is extracted in a worker process (bot/adapters/page_text.py).

Every connection is checked at the socket: the address actually connected to (after DNS, after
every redirect) must be a public one. A name that resolves to 127.0.0.1, or changes its answer
between a check and the connection (DNS rebinding), is refused all the same.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohappyeyeballs import AddrInfoType

from bot.adapters.tools.http import USER_AGENT
from bot.core.jobs import JobFailed, JobRunner, JobsBusy
from bot.core.tools import StatusLine, ToolError, ToolSpec, short

log = logging.getLogger(__name__)

TEXT_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "text/markdown")
REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True, slots=True)
class FetchLimits:
    max_bytes: int = 2 * 1024 * 1024
    timeout: float = 10.0
    max_redirects: int = 5


def refused_address(ip: str) -> bool:
    """Whether connecting to `ip` could reach the bot's own network: loopback, private,
    link-local (cloud metadata 169.254.169.254), multicast, reserved, shared or unspecified."""
    address = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        not address.is_global
        or address.is_multicast
        or address.is_reserved
        or address.is_link_local
        or address.is_loopback
    )


@dataclass(slots=True)
class _Guard:
    """The connector's socket factory: refuses a socket to any non-public address."""

    allow: Collection[tuple[str, int]]
    refused: list[str] = field(default_factory=list)

    def socket(self, addr_info: AddrInfoType) -> socket.socket:
        family, type_, proto, _, address = addr_info
        host, port = str(address[0]), int(address[1])
        if refused_address(host) and (host, port) not in self.allow:
            self.refused.append(host)
            raise ConnectionRefusedError(f"address {host} is not public")
        return socket.socket(family=family, type=type_, proto=proto)


class FetchUrlTool:
    spec = ToolSpec.one_string(
        "fetch_url",
        "Fetch a public web page (http or https) and return its readable text",
        "url",
    )

    def __init__(
        self,
        limits: FetchLimits | None = None,
        *,
        jobs: JobRunner,
        allow: Collection[tuple[str, int]] = (),
        resolver: aiohttp.abc.AbstractResolver | None = None,
    ) -> None:
        """`jobs` extracts the text (trafilatura) in a worker process. `allow` lists (ip, port)
        pairs exempt from the address check and `resolver` replaces DNS: both for tests only,
        never set from configuration."""
        self._limits = limits or FetchLimits()
        self._jobs = jobs
        self._allow = frozenset(allow)
        self._resolver = resolver

    def status(self, args: Mapping[str, Any]) -> StatusLine:
        url = str(args.get("url", ""))
        return StatusLine("tool_fetch_url", short(urlsplit(url).hostname or url))

    async def run(self, args: Mapping[str, Any]) -> str:
        url = str(args["url"]).strip()
        guard = _Guard(self._allow)
        connector = aiohttp.TCPConnector(
            socket_factory=guard.socket,
            resolver=self._resolver,
            use_dns_cache=False,
            force_close=True,
        )
        timeout = aiohttp.ClientTimeout(total=self._limits.timeout)
        headers = {"User-Agent": USER_AGENT, "Accept": "text/html,text/plain;q=0.9,*/*;q=0.1"}
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, headers=headers, trust_env=False
        ) as session:
            page = await self._fetch(session, guard, url)
        try:
            text = str(
                await self._jobs.run(
                    "page_text", page.url, page.content_type, page.charset, page.body
                )
            )
        except JobFailed as exc:
            raise ToolError(
                f"Reading the text of {page.url} was stopped ({exc.reason}): the page is too "
                "costly to read. Do not fetch it again."
            ) from None
        except JobsBusy:
            raise ToolError(
                "Too many pages are being read right now; try again in a moment."
            ) from None
        if not text.strip():
            raise ToolError(f"The page at {page.url} has no readable text.")
        note = " (only the first part of a long page was read)" if page.cut else ""
        return f"Page: {page.url}{note}\n\n{text}"

    async def _fetch(self, session: aiohttp.ClientSession, guard: _Guard, url: str) -> _Page:
        for _ in range(self._limits.max_redirects + 1):
            _check_url(url, self._allow)
            try:
                async with session.get(url, allow_redirects=False) as response:
                    location = response.headers.get("Location")
                    if response.status in REDIRECTS and location:
                        url = urljoin(url, location)
                        continue
                    if response.status >= 400:
                        raise ToolError(f"The page at {url} answered HTTP {response.status}.")
                    _check_type(url, response.content_type)
                    body = await _read_up_to(response, self._limits.max_bytes + 1)
                    cut = len(body) > self._limits.max_bytes
                    body = body[: self._limits.max_bytes]
                    return _Page(url, response.content_type, response.charset, body, cut)
            except aiohttp.ClientConnectorError as exc:
                if guard.refused:
                    log.warning("fetch_url refused a non-public address")
                    raise ToolError(
                        f"Refused: {url} leads to a private or local network address "
                        f"({guard.refused[-1]}); only public web pages can be fetched."
                    ) from None
                raise ToolError(f"Could not connect to {url} ({type(exc).__name__}).") from None
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise ToolError(f"Fetching {url} failed ({type(exc).__name__}).") from None
        raise ToolError(f"Too many redirects (more than {self._limits.max_redirects}).")


async def _read_up_to(response: aiohttp.ClientResponse, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await response.content.read(limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _check_url(url: str, allow: Collection[tuple[str, int]]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ToolError(f"Only http and https pages can be fetched, not {short(url, 80)!r}.")
    host = parts.hostname
    if not host:
        raise ToolError(f"{short(url, 80)!r} has no host name.")
    try:
        ip = str(ipaddress.ip_address(host))
    except ValueError:
        return  # a name: checked at the socket, once resolved
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if refused_address(ip) and (ip, port) not in allow:
        log.warning("fetch_url refused a non-public address")
        raise ToolError(
            f"Refused: {url} is a private or local network address; only public web pages "
            "can be fetched."
        )


def _check_type(url: str, content_type: str) -> None:
    if content_type not in TEXT_TYPES and not content_type.startswith("text/"):
        log.info("fetch_url refused content_type=%s", short(content_type, 64))
        raise ToolError(
            f"The page at {url} is not text (content type {short(content_type, 64)}); "
            "it cannot be read."
        )


@dataclass(frozen=True, slots=True)
class _Page:
    url: str
    content_type: str
    charset: str | None
    body: bytes
    cut: bool
