"""Bots in webhook mode (one or several replicas) against the fake servers."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp
from aiohttp import web

from bot.app import App, build_app
from tests.doubles.fake_gonka import FakeGonka
from tests.doubles.fake_telegram import FakeTelegramServer
from tests.e2e.conftest import make_settings

SECRET = "s3cret-Token_1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def webhook_app(
    telegram: FakeTelegramServer, gonka: FakeGonka, url: str, port: int, **overrides: Any
) -> AsyncIterator[App]:
    """One replica serving its webhook and health endpoints on `port`."""
    settings = make_settings(
        telegram, gonka, webhook_url=url, webhook_secret=SECRET,
        http_host="127.0.0.1", http_port=port, webhook_host="127.0.0.1", webhook_port=port,
        **overrides,
    )  # fmt: skip
    app = build_app(settings)
    await app.start_http()
    task = asyncio.create_task(app.run_webhook(handle_signals=False))
    try:
        yield app
    finally:
        app.stopping.set()
        await asyncio.wait_for(task, 5)
        await app.drain()
        await app.close()


@contextlib.asynccontextmanager
async def round_robin(ports: Sequence[int]) -> AsyncIterator[str]:
    """A load balancer in front of replicas: each request goes to the next one."""
    targets = itertools.cycle(ports)
    session = aiohttp.ClientSession()

    async def forward(request: web.Request) -> web.Response:
        url = f"http://127.0.0.1:{next(targets)}{request.path}"
        async with session.post(url, data=await request.read(), headers=request.headers) as resp:
            return web.Response(status=resp.status, body=await resp.read())

    app = web.Application()
    app.router.add_post("/{path:.*}", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/telegram/webhook"
    finally:
        await runner.cleanup()
        await session.close()


@contextlib.asynccontextmanager
async def two_replicas(
    **shared: Any,
) -> AsyncIterator[tuple[FakeTelegramServer, FakeGonka, App, App]]:
    """Two replicas with the same settings behind a round robin: updates reach them in turn."""
    ports = [free_port(), free_port()]
    async with (
        FakeTelegramServer() as telegram,
        FakeGonka() as gonka,
        round_robin(ports) as url,
        webhook_app(telegram, gonka, url, ports[0], **shared) as first,
        webhook_app(telegram, gonka, url, ports[1], **shared) as second,
    ):
        await telegram.wait_for(lambda: len(telegram.calls_of("setWebhook")) == 2)
        yield telegram, gonka, first, second
