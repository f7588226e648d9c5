"""Webhook mode against the fake Telegram server: secret, redelivery, health and metrics."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.doubles.fake_gonka import FakeGonka, Reply
from tests.doubles.fake_telegram import FakeTelegramServer
from tests.e2e.webhook_apps import SECRET, free_port, webhook_app

USER = 3003


async def test_webhook_checks_secret_answers_once_and_reports() -> None:
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        port = free_port()
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        async with webhook_app(telegram, gonka, url, port), aiohttp.ClientSession() as http:
            await telegram.wait_for(lambda: telegram.calls_of("setWebhook"))
            registered = telegram.calls_of("setWebhook")[0].params
            assert registered["secret_token"] == SECRET
            assert "message" in registered["allowed_updates"]
            assert "callback_query" in registered["allowed_updates"]

            forged = {"update_id": 1, "message": {"message_id": 1, "date": 0,
                      "chat": {"id": USER, "type": "private"}, "text": "hi"}}  # fmt: skip
            for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}):
                async with http.post(url, json=forged, headers=headers) as response:
                    assert response.status == 401

            gonka.enqueue(Reply(text="Hello from the webhook.", token_delay=0.01))
            await telegram.send_text(USER, "hello", user_id=USER)
            await telegram.wait_for(lambda: telegram.bot_messages(USER), 10)
            update_id = telegram.webhook_posts[0][0]
            assert await telegram.redeliver(update_id) == 200  # Telegram retried: taken once
            await telegram.wait_for(lambda: len(telegram.webhook_posts) == 2)

            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
            async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                assert response.status == 200, await response.text()
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
                metrics = await response.text()

        assert [m.text for m in telegram.bot_messages(USER)] == ["Hello from the webhook."]
        assert len(gonka.requests) == 1
        assert [status for _, status in telegram.webhook_posts] == [200, 200]
        assert not telegram.calls_of("getUpdates")
        model = 'model="Qwen/Qwen3-235B-A22B-Instruct-2507-FP8"'
        assert 'gonka_bot_updates_total{type="message"} 1.0' in metrics
        assert f'gonka_bot_replies_total{{{model},outcome="complete"}} 1.0' in metrics
        assert f"gonka_bot_upstream_first_token_seconds_count{{{model}}} 1.0" in metrics
        assert f'gonka_bot_upstream_first_token_seconds_bucket{{le="0.25",{model}}}' in metrics
        assert f"gonka_bot_upstream_answer_seconds_count{{{model}}} 1.0" in metrics
        assert f'gonka_bot_tokens_total{{kind="completion",{model}}}' in metrics
        assert "gonka_bot_telegram_retry_after_total 0.0" in metrics
        assert "gonka_bot_active_streams 0.0" in metrics
        assert "process_resident_memory_bytes " in metrics
        assert 'python_gc_collections_total{generation="2"}' in metrics


async def test_readyz_fails_while_telegram_is_down() -> None:
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        port = free_port()
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        async with webhook_app(telegram, gonka, url, port), aiohttp.ClientSession() as http:
            await telegram.wait_for(lambda: telegram.calls_of("setWebhook"))
            telegram.fail_next("getMe", status=502, description="Bad Gateway")
            async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                assert response.status == 503
                assert "telegram" in await response.text()
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200


async def test_stopping_refuses_new_updates_and_finishes_the_answer_in_hand() -> None:
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        port = free_port()
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        answer = " ".join(f"w{n}" for n in range(40))
        async with webhook_app(telegram, gonka, url, port) as app:
            await telegram.wait_for(lambda: telegram.calls_of("setWebhook"))
            gonka.enqueue(Reply(text=answer, chunk_chars=6, token_delay=0.03))
            await telegram.send_text(USER, "go on", user_id=USER)
            await telegram.wait_for(lambda: telegram.calls_of("sendMessageDraft"), 10)
            app.stopping.set()
            draining = asyncio.create_task(app.drain())
            await asyncio.sleep(0.05)
            await telegram.send_text(USER, "one more", user_id=USER)
            await telegram.wait_for(lambda: len(telegram.webhook_posts) >= 2)
            await draining
        assert telegram.webhook_posts[1][1] == 503  # Telegram keeps it for another replica
        assert [m.text for m in telegram.bot_messages(USER)] == [answer]
        assert len(gonka.requests) == 1
