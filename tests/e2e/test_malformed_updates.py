"""One update the bot cannot read does not stop polling or the webhook: it is skipped past the offset with one
log line (no raw text), and the updates after it are answered. An update of a type aiogram does
not know is one warning, not an ERROR traceback per update."""

from __future__ import annotations

import logging

import pytest

from tests.doubles.fake_gonka import FakeGonka, Reply
from tests.doubles.fake_telegram import FakeTelegramServer
from tests.e2e.conftest import FAST, USER, EnvFactory
from tests.e2e.webhook_apps import free_port, webhook_app

PRIVATE_WORDS = "my card number is 4242"


def _message(message_id: object, text: str) -> dict[str, object]:
    user = {"id": USER, "is_bot": False, "first_name": "U", "language_code": "en"}
    chat = {"id": USER, "type": "private", "first_name": "U"}
    return {"message_id": message_id, "date": 1700000000, "chat": chat, "from": user, "text": text}


async def test_a_malformed_update_is_skipped_and_the_next_answered(
    make_env: EnvFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async with make_env(**FAST) as env:
        env.gonka.enqueue(Reply(text="Answered."))
        bad = await env.telegram.raw_update({"message": _message("abc", PRIVATE_WORDS)})
        await env.telegram.raw_update({"message": _message(2, "hello")})
        await env.wait_replies(1)
        assert env.visible_texts() == ["Answered."]
        assert env.gonka.completion_calls == 1
    skipped = [r for r in caplog.records if "update skipped" in r.getMessage()]
    assert len(skipped) == 1 and f"update_id={bad}" in skipped[0].getMessage()
    assert "message.message_id" in skipped[0].getMessage()
    assert PRIVATE_WORDS not in caplog.text
    assert "Failed to fetch updates" not in caplog.text


async def test_an_unknown_update_type_is_one_warning(
    make_env: EnvFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async with make_env(**FAST) as env:
        for update_id in range(1, 4):
            update = {"update_id": update_id, "future_kind": {"id": update_id, "text": "x"}}
            await env.app.dispatcher.feed_raw_update(env.app.bot, update)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    unknown = [r for r in caplog.records if "unknown update type" in r.getMessage()]
    assert len(unknown) == 1 and unknown[0].levelno == logging.WARNING


async def test_a_malformed_update_does_not_stop_the_webhook(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Telegram redelivers an update until it gets a 2xx, and holds the ones after it: a 400 for
    an update that will never parse stopped the bot for everyone. It is skipped like in polling."""
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        port = free_port()
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        async with webhook_app(telegram, gonka, url, port):
            await telegram.wait_for(lambda: telegram.calls_of("setWebhook"))
            gonka.enqueue(Reply(text="Answered."))
            bad = await telegram.raw_update({"message": _message("abc", PRIVATE_WORDS)})
            await telegram.raw_update({"message": _message(2, "hello")})
            await telegram.wait_for(lambda: telegram.bot_messages(USER), 10)
        assert [m.text for m in telegram.bot_messages(USER)] == ["Answered."]
        assert [status for update, status in telegram.webhook_posts if update == bad] == [200]
    skipped = [r for r in caplog.records if "update skipped" in r.getMessage()]
    assert len(skipped) == 1 and f"update_id={bad}" in skipped[0].getMessage()
    assert "message.message_id" in skipped[0].getMessage()
    assert PRIVATE_WORDS not in caplog.text
