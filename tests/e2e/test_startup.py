"""Start-up mistakes as a user makes them: `python -m bot` says what to fix in one line and exits
non-zero, without a traceback; `python -m bot check` checks every service."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.doubles.fake_gonka import FakeGonka
from tests.doubles.fake_telegram import FakeTelegramServer
from tests.doubles.raw_http import SilentServer
from tests.e2e.bot_process import bot_env, run_bot

GOOD = {"BOT_TOKEN": "123456789:AAHfakeTokenForTheTests_0123456789abc", "GONKA_API_KEY": "sk-x"}


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_one_clear_line(code: int, out: str, err: str, *names: str) -> None:
    text = out + err
    assert code != 0, text
    assert "Traceback" not in text, text
    assert len(text.strip().splitlines()) <= 3, text
    for name in names:
        assert name in text, text


@pytest.mark.parametrize(
    ("values", "names"),
    [
        ({"BOT_TOKEN": '"123456789:AAH-quoted"'}, ["BOT_TOKEN", "@BotFather"]),
        ({"BOT_TOKEN": "AAHno-id-here"}, ["BOT_TOKEN"]),
        ({"LOG_LEVEL": "verbose"}, ["LOG_LEVEL", "INFO"]),
        ({"WEBHOOK_URL": "https://example.org/hook"}, ["WEBHOOK_SECRET", "WEBHOOK_URL"]),
        ({"HTTP_PORT": "http"}, ["HTTP_PORT"]),
        ({"MAX_TOKENS": "0"}, ["MAX_TOKENS"]),
    ],
)
async def test_configuration_mistakes_are_one_line_naming_the_variable(
    tmp_path: Path, values: dict[str, str], names: list[str]
) -> None:
    code, out, err = await run_bot(tmp_path, bot_env(**{**GOOD, **values}))
    assert_one_clear_line(code, out, err, *names)


async def test_a_wrong_token_names_bot_token(tmp_path: Path) -> None:
    async with FakeTelegramServer() as telegram:
        env = bot_env(**GOOD, TELEGRAM_API_URL=telegram.base_url)
        code, out, err = await run_bot(tmp_path, env)
    assert_one_clear_line(code, out, err, "BOT_TOKEN", "Unauthorized")
    assert f"connecting to Telegram at {telegram.base_url}" in err
    assert GOOD["BOT_TOKEN"] not in out + err


async def test_telegram_unreachable_is_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    code, out, err = await run_bot(tmp_path, bot_env(**GOOD, TELEGRAM_API_URL=url))
    assert_one_clear_line(code, out, err, f"cannot reach Telegram at {url}", "TELEGRAM_API_URL")


async def test_a_bot_api_that_never_answers_is_reported_within_the_startup_timeout(
    tmp_path: Path,
) -> None:
    async with SilentServer() as silent:
        env = bot_env(**GOOD, TELEGRAM_API_URL=silent.base_url, STARTUP_TIMEOUT="2")
        # Import (~4 s of CPU) + 2 s; without a start-up timeout this waited 65 s, silently.
        code, out, err = await run_bot(tmp_path, env, timeout=45)
    assert_one_clear_line(code, out, err, "no answer within 2 s", silent.base_url)
    assert err.index("connecting to Telegram") < err.index("no answer")


async def test_check_command_checks_telegram_and_gonka(tmp_path: Path) -> None:
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        env = bot_env(
            BOT_TOKEN=telegram.token, TELEGRAM_API_URL=telegram.base_url,
            GONKA_API_KEY=gonka.api_key, GONKA_BASE_URL=gonka.base_url + "/v1",
        )  # fmt: skip
        code, out, err = await run_bot(tmp_path, env, "check")
        assert code == 0, out + err
        assert "ok    telegram: @" in out and "ok    gonka: " in out
        assert "GONKA_MODEL listed" in out
        assert telegram.calls_of("getUpdates") == []  # it checks, it does not run

        env["GONKA_API_KEY"] = "sk-wrong-key"
        env["REDIS_URL"] = f"redis://127.0.0.1:{closed_port()}/0"
        code, out, err = await run_bot(tmp_path, env, "--check")
    assert code == 1, out + err
    assert "ok    telegram" in out
    assert "FAIL  gonka: GONKA_API_KEY was refused" in out
    assert "FAIL  redis: cannot reach Redis at REDIS_URL" in out
    assert "Traceback" not in out + err and "sk-wrong-key" not in out + err
