"""Log lines of failed Bot API calls name the error, never its text: aiohttp puts the request
URL, and with it the bot token, in the text of a network error. Checked without the redaction
filter (caplog's handler has none), so the lines are clean at the source."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import GetChatMember

from bot.formatting.rendered import Rendered
from bot.logging_setup import Redactor
from bot.telegram.chat_admins import ChatAdmins
from bot.telegram.pacing import Pacers, Rate
from bot.telegram.streaming.outbox import Outbox, Target
from tests.telegram.mocked_bot import cadence

TOKEN = "123456:AAH-secret_token"
LEAKY = f"HTTP Client says - ClientOSError: 502, url=URL('https://api.telegram.org/bot{TOKEN}/x')"


class BrokenBot:
    async def __call__(self, method: Any, request_timeout: int | None = None) -> Any:
        raise TelegramNetworkError(method, LEAKY)

    async def get_chat_member(self, chat_id: int, user_id: int) -> Any:
        raise TelegramNetworkError(GetChatMember(chat_id=chat_id, user_id=user_id), LEAKY)


async def test_a_failed_admin_check_logs_the_error_type_not_its_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    admins = ChatAdmins(BrokenBot())  # type: ignore[arg-type]
    assert not await admins.is_admin(-100, 7)
    assert "TelegramNetworkError" in caplog.text and TOKEN not in caplog.text


async def test_a_failed_send_logs_the_error_type_not_its_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pacers = Pacers(cadence(Rate(0.01, 5), Rate(0.01, 5)))
    outbox = Outbox(BrokenBot(), Target(1001), pacers)  # type: ignore[arg-type]
    assert await outbox.send(Rendered("hello"), None) is None
    assert "TelegramNetworkError" in caplog.text and TOKEN not in caplog.text


def test_credentials_in_any_url_are_redacted() -> None:
    """TELEGRAM_API_URL or GONKA_BASE_URL through a proxy with a user and password."""
    redact = Redactor([])
    line = redact("connecting to Telegram at https://proxyuser:proxy-pass@tg.example:8443/api")
    assert "proxy-pass" not in line and "tg.example:8443/api" in line
