"""One update the bot cannot read does not stop polling: it is skipped past the offset with one
log line (no raw text), and the updates after it are answered. An update of a type aiogram does
not know is one warning, not an ERROR traceback per update."""

from __future__ import annotations

import logging

import pytest

from tests.doubles.fake_gonka import Reply
from tests.e2e.conftest import FAST, USER, EnvFactory

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
