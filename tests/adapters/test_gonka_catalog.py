from __future__ import annotations

import pytest
from openai import AsyncOpenAI

from bot.adapters.gonka_catalog import GonkaCatalog
from bot.core.errors import UpstreamUnavailable
from tests.doubles.fake_gonka import FakeGonka


async def test_list_is_cached_for_ttl_and_reread_after_invalidate() -> None:
    now = [0.0]
    async with FakeGonka() as gonka:
        client = AsyncOpenAI(api_key=gonka.api_key, base_url=gonka.base_url + "/v1")
        catalog = GonkaCatalog(client, gonka.base_url + "/v1/", ttl=60, clock=lambda: now[0])
        first = await catalog.models()
        assert first == gonka.models
        gonka.models = ["only/One"]
        assert await catalog.models() == first
        now[0] = 61
        assert await catalog.models() == ["only/One"]
        gonka.models = ["other/Two"]
        catalog.invalidate()
        assert await catalog.models() == ["other/Two"]
        assert await catalog.health()
        await client.close()


async def test_unreachable_upstream_is_an_upstream_error_not_a_crash() -> None:
    now = [0.0]
    async with FakeGonka() as gonka:
        base = gonka.base_url
    client = AsyncOpenAI(api_key="sk", base_url=base + "/v1", max_retries=0)
    catalog = GonkaCatalog(client, base + "/v1", ttl=60, clock=lambda: now[0])
    with pytest.raises(UpstreamUnavailable):
        await catalog.models()
    with pytest.raises(UpstreamUnavailable, match="recently"):
        await catalog.models()
    assert not await catalog.health()
    await client.close()
