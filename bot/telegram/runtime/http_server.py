"""The bot's HTTP server: the webhook (in webhook mode), /healthz, /readyz and /metrics."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from aiohttp import web

from bot.metrics import Metrics
from bot.readiness import Check, Readiness
from bot.telegram.runtime.webhook import WebhookReceiver

log = logging.getLogger(__name__)


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


class ProbePages:
    """/readyz (the cached readiness checks) and /metrics."""

    def __init__(self, readiness: Readiness, metrics: Metrics) -> None:
        self._readiness = readiness
        self._metrics = metrics

    async def readyz(self, request: web.Request) -> web.Response:
        failed = await self._readiness.failed()
        if failed:
            return web.Response(status=503, text=f"not ready: {', '.join(failed)}\n")
        return web.Response(text="ready\n")

    async def metrics_page(self, request: web.Request) -> web.Response:
        page = self._metrics.render()
        return web.Response(text=page, headers={"Content-Type": self._metrics.content_type})


def build_http(
    metrics: Metrics | None,
    checks: Mapping[str, Check],
    webhook: tuple[str, WebhookReceiver] | None = None,
    check_timeout: float = 3.0,
    ready_ttl: float = 5.0,
) -> web.Application:
    """`checks` name what /readyz needs (each raises when not ready; the answer is cached
    `ready_ttl` seconds). Without `metrics`: /healthz and the webhook only."""
    app = web.Application()
    app.router.add_get("/healthz", healthz)
    if metrics is not None:
        pages = ProbePages(Readiness(checks, ttl=ready_ttl, timeout=check_timeout), metrics)
        app.router.add_get("/readyz", pages.readyz)
        app.router.add_get("/metrics", pages.metrics_page)
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
