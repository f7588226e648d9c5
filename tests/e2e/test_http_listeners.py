"""The HTTP side in production shape: readiness cached, health and metrics local by default, the
webhook on its own host, and a cap on the updates handled at once."""

from __future__ import annotations

import asyncio

import aiohttp

from bot.app import build_app
from bot.config import Settings
from tests.doubles.fake_gonka import FakeGonka, Reply
from tests.doubles.fake_telegram import FakeTelegramServer
from tests.e2e.conftest import EnvFactory, make_settings
from tests.e2e.webhook_apps import SECRET, free_port, webhook_app


async def test_readyz_calls_telegram_once_for_a_crowd_of_requests() -> None:
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        port = free_port()
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        async with webhook_app(telegram, gonka, url, port), aiohttp.ClientSession() as http:
            await telegram.wait_for(lambda: telegram.calls_of("setWebhook"))
            before = len(telegram.calls_of("getMe"))

            async def ready() -> int:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                    return response.status

            statuses = await asyncio.gather(*(ready() for _ in range(50)))
            statuses.append(await ready())
        assert statuses == [200] * 51
        assert len(telegram.calls_of("getMe")) - before == 1  # it was one per request


def test_health_and_metrics_listen_on_localhost_by_default() -> None:
    settings = Settings(_env_file=None, bot_token="1:x", gonka_api_key="k")  # type: ignore[call-arg]
    assert settings.http_host == "127.0.0.1"
    assert settings.webhook_host == "0.0.0.0"


async def test_the_webhook_has_its_own_listener_without_metrics() -> None:
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        health, hook = free_port(), free_port()
        settings = make_settings(
            telegram, gonka, webhook_url=f"http://127.0.0.2:{hook}/telegram/webhook",
            webhook_secret=SECRET, webhook_host="127.0.0.2", webhook_port=hook, http_port=health,
        )  # fmt: skip
        app = build_app(settings)
        await app.start_http()
        try:
            assert app.http is not None and app.webhook_http is not None
            assert app.http.addresses[0][0] == "127.0.0.1"
            assert app.webhook_http.addresses[0][0] == "127.0.0.2"
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{health}/metrics") as response:
                    assert response.status == 200
                async with http.get(f"http://127.0.0.2:{hook}/metrics") as response:
                    assert response.status == 404
                async with http.get(f"http://127.0.0.2:{hook}/healthz") as response:
                    assert response.status == 200
                async with http.post(f"http://127.0.0.2:{hook}/telegram/webhook") as response:
                    assert response.status == 401  # no secret
        finally:
            await app.drain()
            await app.close()


async def test_polling_handles_at_most_max_concurrent_updates_at_once(
    make_env: EnvFactory,
) -> None:
    async with make_env(max_concurrent_updates=2, flood_messages=0) as env:
        for user in range(5):
            env.gonka.enqueue(Reply(text=f"answer {user}", ttft=0.4))
        for user in range(5):
            await env.telegram.send_text(500 + user, "hi", user_id=500 + user)
        await env.telegram.wait_for(
            lambda: all(env.telegram.bot_messages(500 + u) for u in range(5)), 30
        )
        assert env.gonka.max_in_flight == 2


async def test_webhook_handles_at_most_max_concurrent_updates_at_once() -> None:
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        port = free_port()
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        async with webhook_app(telegram, gonka, url, port, max_concurrent_updates=2):
            await telegram.wait_for(lambda: telegram.calls_of("setWebhook"))
            for user in range(5):
                gonka.enqueue(Reply(text=f"answer {user}", ttft=0.4))
            for user in range(5):
                await telegram.send_text(600 + user, "hi", user_id=600 + user)
            await telegram.wait_for(
                lambda: all(telegram.bot_messages(600 + u) for u in range(5)), 30
            )
        assert gonka.max_in_flight == 2
