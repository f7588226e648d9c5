"""End-to-end harness: the real bot (aiogram + openai SDK) against fake Telegram and fake Gonka."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from bot.app import App, build_app
from bot.config import Settings
from tests.doubles.fake_gonka import FakeGonka
from tests.doubles.fake_telegram import FakeTelegramServer, StoredMessage
from tests.doubles.fake_telegram_limits import FloodLimits

USER = 1001
# Short pacing: these tests are about decisions, not about Telegram's rate limits.
FAST: dict[str, Any] = {
    "private_edit_interval": 0.05,
    "private_edit_burst": 5,
    "group_edit_interval": 0.05,
    "draft_interval": 0.05,
    "draft_burst": 5,
}


@dataclass
class Env:
    telegram: FakeTelegramServer
    gonka: FakeGonka
    app: App

    def visible(self, chat_id: int = USER) -> list[StoredMessage]:
        """What the user sees from the bot: its messages, in order."""
        return self.telegram.bot_messages(chat_id)

    def visible_texts(self, chat_id: int = USER) -> list[str]:
        return [m.text or "" for m in self.visible(chat_id)]

    async def wait_replies(self, count: int, chat_id: int = USER, timeout: float = 15.0) -> None:
        """Wait until `count` answers are finished (no generation running, messages present)."""

        def done() -> bool:
            return (
                len(self.visible(chat_id)) >= count
                and self.app.running.active == 0
                and self.gonka.in_flight == 0
            )

        await self.telegram.wait_for(done, timeout=timeout)
        await asyncio.sleep(0.05)

    def upstream_messages(self, index: int = -1) -> list[dict[str, Any]]:
        return list(self.gonka.requests[index]["messages"])


def make_settings(telegram: FakeTelegramServer, gonka: FakeGonka, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": telegram.token,
        "telegram_api_url": telegram.base_url,
        "gonka_api_key": gonka.api_key,
        "gonka_base_url": gonka.base_url + "/v1",
        "redis_url": None,
        "data_dir": None,
        "upstream_max_retries": 1,
        "upstream_read_timeout": 5.0,
        "system_prompt": "You are a test assistant.",
        # The entity path is the default under test; rich tests turn these on.
        "rich_messages": False,
        "rich_drafts": False,
        # Tools are off unless a test turns them on (tests/e2e/test_tools.py).
        "tools": "",
        # The /usage and /stats pictures are sent only where a test turns them on.
        "usage_pictures": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


EnvFactory = Callable[..., contextlib.AbstractAsyncContextManager[Env]]


@contextlib.asynccontextmanager
async def running_env(
    *,
    limits: FloodLimits | None = None,
    drafts_enabled: bool = True,
    rich_methods: bool = True,
    has_topics_enabled: bool = False,
    clock: Callable[[], datetime] | None = None,
    **overrides: Any,
) -> AsyncIterator[Env]:
    async with (
        FakeTelegramServer(
            limits=limits,
            drafts_enabled=drafts_enabled,
            rich_methods=rich_methods,
            has_topics_enabled=has_topics_enabled,
        ) as telegram,
        FakeGonka() as gonka,
    ):
        app = build_app(make_settings(telegram, gonka, **overrides), clock=clock)
        task = asyncio.create_task(app.run_polling(polling_timeout=1, handle_signals=False))
        try:
            await telegram.wait_for(lambda: telegram.calls_of("deleteWebhook"), timeout=5)
            yield Env(telegram, gonka, app)
        finally:
            # A test may end before polling has begun: aiogram refuses to stop it then.
            with contextlib.suppress(TimeoutError):
                await telegram.wait_for(lambda: telegram.calls_of("getUpdates"), timeout=5)
            with contextlib.suppress(RuntimeError):
                await app.dispatcher.stop_polling()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 5)
            await app.close()
            assert not telegram.internal_errors, telegram.internal_errors


@pytest.fixture
def make_env() -> EnvFactory:
    return running_env


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with running_env() as running:
        yield running
