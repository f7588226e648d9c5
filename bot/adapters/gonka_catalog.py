"""ModelCatalog on the openai SDK: GET /v1/models (cached briefly) and the proxy's GET /health."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx2
import openai
from openai import AsyncOpenAI

from bot.adapters.gonka import map_status_error
from bot.core.errors import UpstreamTimeout, UpstreamUnavailable

log = logging.getLogger(__name__)


# A failed read is not repeated for this long: turns meanwhile use the chosen model unchecked.
RETRY_AFTER_FAILURE = 15.0
LIST_TIMEOUT = 10.0


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
            except openai.APITimeoutError as exc:
                self._failed_at = now
                raise UpstreamTimeout("model list") from exc
            except openai.APIConnectionError as exc:
                self._failed_at = now
                raise UpstreamUnavailable("model list") from exc
            self._failed_at = None
            self._cached = [model.id for model in page.data if model.id]
            self._read_at = self._clock()
            log.info("model list read models=%d", len(self._cached))
            return self._cached

    def invalidate(self) -> None:
        self._cached = None
        self._failed_at = None

    async def health(self) -> bool:
        client = self._client.with_options(base_url=self._root, max_retries=0, timeout=5.0)
        try:
            response = await client.get("/health", cast_to=httpx2.Response)
        except openai.OpenAIError as exc:
            log.warning("upstream health check failed error=%s", type(exc).__name__)
            return False
        return response.status_code == 200
