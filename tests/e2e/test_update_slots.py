"""MAX_CONCURRENT_UPDATES caps the updates being handled, not those waiting for their chat."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.doubles.fake_gonka import FakeGonka, Reply
from tests.doubles.fake_telegram import FakeTelegramServer
from tests.doubles.fake_telegram_limits import FloodLimits
from tests.e2e.conftest import FAST, Env, running_env
from tests.e2e.webhook_apps import free_port, webhook_app

FLOODER, OTHER = 7001, 7002
FLOOD = 64  # MAX_CONCURRENT_UPDATES' default: aiogram's limit was full with them


@contextlib.asynccontextmanager
async def webhook_env(**overrides: Any) -> AsyncIterator[Env]:
    port = free_port()
    async with (
        FakeTelegramServer(limits=overrides.pop("limits")) as telegram,
        FakeGonka() as gonka,
        webhook_app(telegram, gonka, f"http://127.0.0.1:{port}/hook", port, **overrides) as app,
    ):
        await telegram.wait_for(lambda: telegram.calls_of("setWebhook"))
        yield Env(telegram, gonka, app)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_one_chat_flooding_does_not_block_another_chats_answer(mode: str) -> None:
    start = running_env if mode == "polling" else webhook_env
    async with start(**FAST, limits=FloodLimits.off(), flood_messages=0, use_drafts=False) as env:
        env.gonka.enqueue(Reply(stall_after=0, stall_for=3.0))  # the flooder's first answer
        await env.telegram.send_text(FLOODER, "first", user_id=FLOODER)
        await env.telegram.wait_for(lambda: env.gonka.in_flight == 1)
        for n in range(FLOOD - 1):
            await env.telegram.send_text(FLOODER, f"more {n}", user_id=FLOODER)
        await env.telegram.send_text(OTHER, "me too", user_id=OTHER)
        await env.telegram.wait_for(lambda: "Echo: me too" in env.visible_texts(OTHER), 2.5)
        # Answered while the flooder's first answer still holds its chat: its other
        # questions have not reached the model yet.
        assert len(env.gonka.requests) == 2
        await env.wait_replies(FLOOD, FLOODER, timeout=30)


async def test_no_more_updates_than_the_cap_are_handled_at_once() -> None:
    users = [7100 + n for n in range(6)]
    async with running_env(**FAST, max_concurrent_updates=2, use_drafts=False) as env:
        env.gonka.enqueue(*[Reply(ttft=0.3) for _ in users])
        for user in users:
            await env.telegram.send_text(user, "hi", user_id=user)
        await env.telegram.wait_for(lambda: all(env.visible(u) for u in users), 10)
        await env.wait_replies(1, users[-1])
        assert env.gonka.max_in_flight == 2


async def test_a_stop_press_gets_through_while_every_slot_is_taken() -> None:
    """The answers holding the slots are what Stop is for: a press does not wait for a slot."""
    async with running_env(
        **FAST, limits=FloodLimits.off(), max_concurrent_updates=1, use_drafts=False
    ) as env:
        env.gonka.enqueue(Reply(text="word " * 400, chunk_chars=5, token_delay=0.02))  # ~8 s
        await env.telegram.send_text(FLOODER, "talk", user_id=FLOODER)
        message = await env.telegram.wait_for(
            lambda: next((m for m in env.visible(FLOODER) if m.reply_markup), None)
        )
        data = message.reply_markup["inline_keyboard"][0][0]["callback_data"]
        await env.telegram.press_button(FLOODER, message.message_id, data, user_id=FLOODER)
        await env.telegram.wait_for(lambda: env.app.running.active == 0, 3)
        assert (env.visible(FLOODER)[-1].text or "").endswith("Stopped.")
