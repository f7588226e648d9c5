"""Start-up mistakes as a user makes them: `python -m bot` says what to fix in one line and exits
non-zero, without a traceback; `python -m bot check` checks every service."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.doubles.fake_gonka import FakeGonka, Reply
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


LITELLM_NO_DB = {
    "error": {
        "message": "No connected db.",
        "type": "no_db_connection",
        "param": None,
        "code": "400",
    }
}


def check_lines(code: int, out: str, err: str, count: int) -> list[str]:
    """`check` fails with exactly one line per check on stdout, nothing else (no SDK retry
    lines, no log lines, no traceback)."""
    assert code == 1, out + err
    assert err.strip() == "", out + err
    lines = out.strip().splitlines()
    assert len(lines) == count, out
    return lines


@pytest.mark.parametrize(
    ("where", "kind"),
    [
        ("closed", "connection refused"),
        ("dns", "DNS"),
        ("silent", "no answer within 2 s"),
    ],
)
async def test_check_names_why_gonka_cannot_be_reached(
    tmp_path: Path, where: str, kind: str
) -> None:
    # No network printed 7 lines (the SDK's own retry lines among them) and called a DNS
    # failure "ConnectTimeout".
    async with FakeTelegramServer() as telegram, SilentServer() as silent:
        url = {
            "closed": f"http://127.0.0.1:{closed_port()}/v1",
            "dns": "http://no-such-host.invalid/v1",
            "silent": silent.base_url + "/v1",
        }[where]
        env = bot_env(
            BOT_TOKEN=telegram.token, TELEGRAM_API_URL=telegram.base_url, GONKA_API_KEY="sk-x",
            GONKA_BASE_URL=url, STARTUP_TIMEOUT="2",
        )  # fmt: skip
        code, out, err = await run_bot(tmp_path, env, "check", timeout=60)
    telegram_line, gonka_line = check_lines(code, out, err, 2)
    assert telegram_line.startswith("ok    telegram: @")
    assert gonka_line.startswith(f"FAIL  gonka: cannot reach Gonka at {url} ({kind}")
    assert "GONKA_BASE_URL" in gonka_line and "Timeout" not in gonka_line.replace(kind, "")


async def test_check_names_a_dns_failure_of_telegram(tmp_path: Path) -> None:
    async with FakeGonka() as gonka:
        env = bot_env(
            BOT_TOKEN=GOOD["BOT_TOKEN"], TELEGRAM_API_URL="http://no-such-host.invalid",
            GONKA_API_KEY=gonka.api_key, GONKA_BASE_URL=gonka.base_url + "/v1",
        )  # fmt: skip
        code, out, err = await run_bot(tmp_path, env, "check")
    telegram_line, gonka_line = check_lines(code, out, err, 2)
    assert telegram_line.startswith("FAIL  telegram: cannot reach Telegram at http://no-such-host")
    assert "(DNS" in telegram_line and "TELEGRAM_API_URL" in telegram_line
    assert gonka_line.startswith("ok    gonka: ")


@pytest.mark.parametrize("proxy", ["gonka", "litellm"])
async def test_check_blames_the_key_when_the_proxy_refuses_it(tmp_path: Path, proxy: str) -> None:
    # LiteLLM without a database answers a wrong key with 400 "No connected db.": check
    # blamed GONKA_BASE_URL.
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        key = "sk-wrong-key"
        if proxy == "litellm":
            key = gonka.api_key
            gonka.enqueue(Reply.error(400, LITELLM_NO_DB))
        env = bot_env(
            BOT_TOKEN=telegram.token, TELEGRAM_API_URL=telegram.base_url, GONKA_API_KEY=key,
            GONKA_BASE_URL=gonka.base_url + "/v1",
        )  # fmt: skip
        code, out, err = await run_bot(tmp_path, env, "check")
    _, gonka_line = check_lines(code, out, err, 2)
    assert gonka_line.startswith("FAIL  gonka: GONKA_API_KEY was refused"), gonka_line
    assert "authentication" in gonka_line and "GONKA_BASE_URL" not in gonka_line
    assert "sk-wrong-key" not in out


async def test_check_fails_on_a_malformed_mcp_servers_file(tmp_path: Path) -> None:
    # It logged "Expecting property name…" naming neither the variable nor the file, and passed.
    bad = tmp_path / "mcp.json"
    bad.write_text('{\n  "servers": {\n    x: 1\n  }\n}\n')
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        env = bot_env(
            BOT_TOKEN=telegram.token, TELEGRAM_API_URL=telegram.base_url,
            GONKA_API_KEY=gonka.api_key, GONKA_BASE_URL=gonka.base_url + "/v1",
            MCP_SERVERS_FILE=str(bad),
        )  # fmt: skip
        code, out, err = await run_bot(tmp_path, env, "check")
    lines = check_lines(code, out, err, 3)
    [mcp_line] = [line for line in lines if "mcp" in line]
    assert mcp_line.startswith(f"FAIL  mcp: MCP_SERVERS_FILE={bad}: line 3")
    assert "Expecting property name" in mcp_line


async def test_check_does_not_import_aiogram_or_openai(tmp_path: Path) -> None:
    async with FakeTelegramServer() as telegram, FakeGonka() as gonka:
        env = bot_env(
            BOT_TOKEN=telegram.token, TELEGRAM_API_URL=telegram.base_url,
            GONKA_API_KEY=gonka.api_key, GONKA_BASE_URL=gonka.base_url + "/v1",
            PYTHONPROFILEIMPORTTIME="1",  # every import, one line each on stderr
        )  # fmt: skip
        code, out, err = await run_bot(tmp_path, env, "check")
    assert code == 0, out + err
    imported = {line.rsplit("|", 1)[-1].strip() for line in err.splitlines() if "|" in line}
    assert "aiohttp" in imported  # the lines are there
    assert "aiogram" not in imported and "openai" not in imported
