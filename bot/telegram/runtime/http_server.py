"""The bot's HTTP server: the webhook (in webhook mode), /healthz, /readyz and /metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from bot.metrics import Metrics
from bot.telegram.runtime.webhook import WebhookReceiver

log = logging.getLogger(__name__)

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"

Check = Callable[[], Awaitable[None]]


def build_http(
    metrics: Metrics,
    checks: Mapping[str, Check],
    webhook: tuple[str, WebhookReceiver] | None = None,
    check_timeout: float = 3.0,
) -> web.Application:
    """`checks` name what /readyz needs (each raises when not ready)."""

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(request: web.Request) -> web.Response:
        failed: list[str] = []
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check(), check_timeout)
            except Exception as exc:
                log.warning("not ready check=%s error=%s", name, type(exc).__name__)
                failed.append(name)
        if failed:
            return web.Response(status=503, text=f"not ready: {', '.join(failed)}\n")
        return web.Response(text="ready\n")

    async def metrics_page(request: web.Request) -> web.Response:
        return web.Response(text=metrics.render(), headers={"Content-Type": PROMETHEUS_TEXT})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)
    if webhook is not None:
        path, receiver = webhook
        app.router.add_post(path, receiver.handle)
    return app


async def serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("http server listening host=%s port=%s", host, runner.addresses[0][1])
    return runner
