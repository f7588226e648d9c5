"""No log line carries a secret, in the failures that once leaked the bot token: a proxy in front
of Telegram that sends a malformed HTTP reply, and one that drops the connection."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from bot.logging_setup import REDACTED, Redactor, install_redaction
from tests.doubles.fake_gonka import FakeGonka, Reply
from tests.doubles.raw_http import BrokenProxyBotApi
from tests.e2e.bot_process import BotProcess, bot_env

SECRET = "hook-secret_0123456789"


@pytest.mark.parametrize("echo", [False, True], ids=["connection breaks", "error page echoes"])
async def test_no_secret_in_the_logs_when_the_bot_api_connection_breaks(
    tmp_path: Path, echo: bool
) -> None:
    """Broken replies and dropped connections; or a proxy's error page that echoes the URL
    with the token's ':' percent-encoded (aiogram logs its text in "Failed to fetch updates")."""
    async with BrokenProxyBotApi(echo=echo) as telegram, FakeGonka() as gonka:
        gonka.enqueue(Reply(text="An answer that cannot be delivered.", token_delay=0.01))
        env = bot_env(
            BOT_TOKEN=telegram.token, TELEGRAM_API_URL=telegram.base_url,
            GONKA_API_KEY=gonka.api_key, GONKA_BASE_URL=gonka.base_url + "/v1",
            WEBHOOK_SECRET=SECRET, LOG_LEVEL="DEBUG",
        )  # fmt: skip
        bot = await BotProcess.start(tmp_path, env)
        try:
            # The message is answered (its Bot API calls break), and polling breaks: both ways,
            # several times over.
            await bot.wait_for(lambda: gonka.completion_calls >= 1 and telegram.broken >= 8)
            await bot.wait_for(lambda: "Failed to fetch updates" in bot.output, 30)
        finally:
            await bot.stop()
    log = bot.output
    assert telegram.token not in log
    assert telegram.token.split(":")[1] not in log
    assert gonka.api_key not in log and SECRET not in log
    assert "/bot" + REDACTED in log  # the URLs were there, without the token
    if echo:
        assert "Cannot POST /bot" + REDACTED + "/getUpdates" in log
        return
    # Network errors are logged by type: the cause's text carried the URL.
    assert re.search(r"telegram unreachable method=\w+ error=TelegramNetworkError\(\w+\)", log)


def test_the_filter_covers_messages_arguments_and_tracebacks() -> None:
    logger = logging.getLogger("test.redaction")
    logger.propagate = False
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    install_redaction(["sk-gonka-key-1", SECRET], logger)
    token_url = "https://api.telegram.org/bot123:AAH-token_x/getUpdates"
    try:
        logger.warning("failed url=%s key=%s", token_url, "sk-gonka-key-1")
        try:
            raise OSError(f"cannot send to {token_url} secret={SECRET}")
        except OSError:
            logger.exception("update failed")
        logger.warning("stack", stack_info=True, extra={"x": SECRET})
    finally:
        logger.removeHandler(handler)
    text = "\n".join(records)
    assert "AAH-token_x" not in text and "sk-gonka-key-1" not in text and SECRET not in text
    assert "bot<redacted>/getUpdates" in text and "Traceback" in text


@pytest.mark.parametrize(
    "written",
    [
        "123456%3AAAH-token_0123456789abcdef",  # percent-encoded, upper-case hex
        "123456%3aAAH-token_0123456789abcdef",  # lower-case hex
        "AAH-token_0123456789abcdef",  # the token's secret part alone
        "hook-secret%5F0123456789",  # any character may be percent-encoded
        r"s\u0065cr\u00e9t \/\"k\"",  # JSON-escaped
        "s%65cr%C3%A9t+%2F%22k%22",  # form-encoded
    ],
)
def test_every_encoding_of_a_secret_is_redacted(written: str) -> None:
    redact = Redactor(["123456:AAH-token_0123456789abcdef", SECRET, 'secrét /"k"'])
    assert redact(f"a {written} b") == f"a {REDACTED} b"
