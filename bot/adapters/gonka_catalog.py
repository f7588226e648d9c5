"""ModelCatalog on the openai SDK: GET /v1/models (cached briefly) and the proxy's GET /health."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx2
import openai
from openai import AsyncOpenAI

from bot.adapters.gonka_errors import map_status_error, map_transport_error
from bot.core.errors import UpstreamUnavailable

log = logging.getLogger(__name__)


# A failed read is not repeated for this long: turns meanwhile use the chosen model unchecked.
RETRY_AFTER_FAILURE = 15.0
LIST_TIMEOUT = 10.0
# Some proxies' /health calls every model to find out (LiteLLM): ask at most once a minute.
HEALTH_TTL = 60.0


class GonkaCatalog:
    """The live model list, read at most once per `ttl` seconds (the list changes hourly)."""

    def __init__(
        self,
        client: AsyncOpenAI,
        base_url: str,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        root = base_url.rstrip("/")
        self._root = root.removesuffix("/v1")
        self._ttl = ttl
        self._clock = clock
        self._cached: list[str] | None = None
        self._read_at = 0.0
        self._failed_at: float | None = None
        self._lock = asyncio.Lock()
        self._health: tuple[float, bool] | None = None  # (read at, healthy)
        self._health_lock = asyncio.Lock()

    async def models(self) -> list[str]:
        async with self._lock:
            now = self._clock()
            if self._cached is not None and now - self._read_at < self._ttl:
                return self._cached
            if self._failed_at is not None and now - self._failed_at < RETRY_AFTER_FAILURE:
                raise UpstreamUnavailable("model list failed recently")
            client = self._client.with_options(timeout=LIST_TIMEOUT, max_retries=0)
            try:
                page = await client.models.list()
            except openai.APIStatusError as exc:
                self._failed_at = now
                raise map_status_error(exc) from exc
            except openai.APIConnectionError as exc:
                self._failed_at = now
                raise map_transport_error(exc, "model list") from exc
            self._failed_at = None
            self._cached = [model.id for model in page.data if model.id]
            self._read_at = self._clock()
            log.info("model list read models=%d", len(self._cached))
            return self._cached

    def invalidate(self) -> None:
        self._cached = None
        self._failed_at = None

    async def health(self) -> bool:
        """Whether the upstream says it is healthy: a 200 whose body lists no unhealthy
        endpoint and no failing status. Read at most once per HEALTH_TTL."""
        async with self._health_lock:
            now = self._clock()
            if self._health is not None and now - self._health[0] < HEALTH_TTL:
                return self._health[1]
            healthy = await self._read_health()
            self._health = (self._clock(), healthy)
            return healthy

    async def _read_health(self) -> bool:
        client = self._client.with_options(base_url=self._root, max_retries=0, timeout=5.0)
        try:
            response = await client.get("/health", cast_to=httpx2.Response)
            body = response.json() if response.content else None
        except (openai.OpenAIError, ValueError) as exc:
            log.warning("upstream health check failed error=%s", type(exc).__name__)
            return False
        healthy = response.status_code == 200 and body_says_healthy(body)
        if not healthy:
            log.warning("upstream health check: not healthy status=%s", response.status_code)
        return healthy


_GOOD_STATUS = frozenset({"ok", "healthy", "pass", "up", "green"})


def body_says_healthy(body: object) -> bool:
    """Gonka answers {"status": "ok"}; LiteLLM {"healthy_endpoints": [...],
    "unhealthy_endpoints": [...], "healthy_count": n, "unhealthy_count": m}."""
    if not isinstance(body, dict):
        return True  # a bare 200 ("OK" as text) says nothing against it
    status = body.get("status")
    if isinstance(status, str) and status.lower() not in _GOOD_STATUS:
        return False
    unhealthy = body.get("unhealthy_endpoints")
    if isinstance(unhealthy, list) and unhealthy:
        return False
    count = body.get("unhealthy_count")
    if isinstance(count, int) and count > 0:
        return False
    healthy = body.get("healthy_endpoints")
    return not (isinstance(healthy, list) and not healthy and "unhealthy_endpoints" in body)
