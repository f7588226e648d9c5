"""fetch_url: readable text of public pages; the bot's own network refused at the socket."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.adapters.tools.fetch_url import FetchLimits, FetchUrlTool, refused_address
from bot.core.models import ToolCall
from bot.core.tool_runner import ToolLimits, ToolRunner
from bot.workers.pool import WorkerLimits, WorkerPool
from tests.doubles.fake_pages import InternalService, PageServer
from tests.fakes import shown


class MapResolver(AbstractResolver):
    """DNS for tests: names -> fixed addresses."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    async def resolve(
        self, host: str, port: int = 0, family: int = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in self.names:
            raise OSError(f"no such host {host}")
        return [
            ResolveResult(hostname=host, host=self.names[host], port=port, family=socket.AF_INET,
                          proto=0, flags=socket.AI_NUMERICHOST)
        ]  # fmt: skip

    async def close(self) -> None:
        return None


@pytest.fixture
async def pages() -> AsyncIterator[PageServer]:
    async with PageServer() as server:
        yield server


@pytest.fixture
async def internal() -> AsyncIterator[InternalService]:
    async with InternalService() as server:
        yield server


def _tool(pages: PageServer, jobs: WorkerPool, **kwargs: Any) -> FetchUrlTool:
    # Only the page server's own (address, port) is let through: the guard still refuses
    # every other loopback port, such as the internal service's.
    resolver = MapResolver({"pages.test": "127.0.0.1", "internal.test": "127.0.0.1"})
    return FetchUrlTool(allow={("127.0.0.1", pages.port)}, resolver=resolver, jobs=jobs, **kwargs)


async def _fetch(tool: FetchUrlTool, url: str) -> tuple[str, str]:
    runner = ToolRunner(ToolLimits(timeout=10, result_tokens=4000))
    [result] = await runner.run(
        [ToolCall("c", "fetch_url", f'{{"url": "{url}"}}')], {"fetch_url": tool}
    )
    return result.content, result.outcome


async def test_reads_the_article_without_boilerplate(pages: PageServer, jobs: WorkerPool) -> None:
    text, outcome = await _fetch(_tool(pages, jobs), pages.url("/article"))
    assert outcome == "ok"
    assert text.startswith(f"Page: {pages.url('/article')}\n\nTitle: The network doubled")
    assert "median latency of a request fell to 180 milliseconds" in text
    assert "Cookie settings" not in text and "Log in" not in text


async def test_plain_text_in_its_charset_and_a_name_resolved(
    pages: PageServer, jobs: WorkerPool
) -> None:
    text, _ = await _fetch(_tool(pages, jobs), f"http://pages.test:{pages.port}/plain")
    assert text.endswith("Привет: plain text in windows-1251.")


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "[::1]", "[::ffff:127.0.0.1]", "0.0.0.0"]
)
async def test_private_addresses_refused(
    pages: PageServer, jobs: WorkerPool, internal: InternalService, host: str
) -> None:
    port = internal.port if "127" in host or "::1" in host or host == "0.0.0.0" else 80
    started = time.perf_counter()
    text, outcome = await _fetch(_tool(pages, jobs), f"http://{host}:{port}/latest/meta-data/")
    assert outcome == "error"
    assert text.startswith("Error: Refused:") and "only public web pages" in text
    assert time.perf_counter() - started < 1
    assert internal.paths == []


@pytest.mark.parametrize(
    "target", ["127.0.0.1:{internal}", "10.0.0.1", "169.254.169.254", "internal.test:{internal}"]
)
async def test_redirect_to_a_private_address_refused(
    pages: PageServer, jobs: WorkerPool, internal: InternalService, target: str
) -> None:
    to = "http://" + target.format(internal=internal.port) + "/secret"
    text, outcome = await _fetch(_tool(pages, jobs), pages.url(f"/redirect?to={to}"))
    assert outcome == "error" and text.startswith("Error: Refused:"), text
    assert pages.paths == [f"/redirect?to={to}"]
    assert internal.paths == []
    assert "AKIA" not in text


async def test_a_name_resolving_to_loopback_is_refused_at_the_socket(
    pages: PageServer, jobs: WorkerPool, internal: InternalService
) -> None:
    text, _ = await _fetch(_tool(pages, jobs), f"http://internal.test:{internal.port}/")
    assert text.startswith("Error: Refused:") and "(127.0.0.1)" in text
    assert internal.paths == []


async def test_without_the_test_allowance_the_page_server_is_refused_too(
    pages: PageServer, jobs: WorkerPool
) -> None:
    text, _ = await _fetch(FetchUrlTool(jobs=jobs), pages.url("/article"))
    assert text.startswith("Error: Refused:")
    assert pages.paths == []


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/image.png", "is not text (content type image/png)"),
        ("/disguised", "is binary, not text"),
        ("/loop", "Too many redirects (more than 5)"),
        ("/missing", "answered HTTP 404"),
        ("/empty", "has no readable text"),
    ],
)
async def test_pages_that_cannot_be_read(
    pages: PageServer, jobs: WorkerPool, path: str, error: str
) -> None:
    text, outcome = await _fetch(_tool(pages, jobs), pages.url(path))
    assert outcome == "error" and error in text


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://a/", "http:///nohost"]
)
async def test_other_schemes_refused(pages: PageServer, jobs: WorkerPool, url: str) -> None:
    text, outcome = await _fetch(_tool(pages, jobs), url)
    assert outcome == "error"
    assert "Only http and https" in text or "has no host name" in text


async def test_huge_page_is_cut_at_the_size_limit(pages: PageServer, jobs: WorkerPool) -> None:
    tool = _tool(pages, jobs, limits=FetchLimits(max_bytes=256 * 1024))
    started = time.perf_counter()
    text, outcome = await _fetch(tool, pages.url("/huge"))
    assert outcome == "ok"
    assert "(only the first part of a long page was read)" in text
    assert "All work and no play" in text
    assert "truncated" in text  # and the runner kept it within the token budget
    assert time.perf_counter() - started < 5


def test_address_classes() -> None:
    for ip in ("127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.100.100.200",
               "224.0.0.1", "240.0.0.1", "0.0.0.0", "::1", "fe80::1", "fd00:ec2::254", "::ffff:10.0.0.1"):  # fmt: skip
        assert refused_address(ip), ip
    for ip in ("93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"):
        assert not refused_address(ip), ip


def test_status_line() -> None:
    tool = FetchUrlTool(jobs=WorkerPool(WorkerLimits()))
    assert shown(tool, {"url": "https://example.com/a/b"}, "en") == "🌐 Reading: example.com…"
    assert shown(tool, {"url": "https://example.com/a/b"}, "ru") == "🌐 Читаю: example.com…"
