"""What the bot's main process imports at start: only what a configured feature needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PREFIXES = ("BOT_", "GONKA_", "REDIS_", "WEBHOOK_", "HTTP_", "LOG_", "DATA_", "TELEGRAM_", "MCP_")
# Nothing answers on port 1: every check fails at once (connection refused).
SETTINGS = {
    "BOT_TOKEN": "123456789:AAHfakeTokenForTheTests_0123456789abc",
    "GONKA_API_KEY": "sk-x",
    "TELEGRAM_API_URL": "http://127.0.0.1:1",
    "GONKA_BASE_URL": "http://127.0.0.1:1/v1",
    "STARTUP_TIMEOUT": "2",
}

PROBE = """
from bot.lazy_aiogram import install
install()
import sys
import bot.app
print(sorted(m for m in sys.modules if m.split(".")[0] in ("pypdf", "docx", "lxml", "mcp")
      or m.startswith("aiohttp.web")))
"""


def test_the_composition_root_imports_no_web_server_and_no_document_library() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]", done.stdout


def _probe(code: str, tmp_path: Path, **env: str) -> list[str]:
    """Run `code` in a fresh interpreter (in `tmp_path`, no .env) with only `env` set of the
    bot's variables; it prints a JSON list."""
    clean = {k: v for k, v in os.environ.items() if k.isupper() and not k.startswith(PREFIXES)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**clean, **env, "PYTHONPATH": str(ROOT)}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_with_redis_url_the_start_path_imports_no_fakeredis(tmp_path: Path) -> None:
    # fakeredis (and its Lua runtime) is the embedded store's: a bot on a Redis server never
    # needs it. Before, bot.app and bot.__main__ imported it unconditionally.
    code = (
        "import json, sys\n"
        "from bot import lazy_aiogram, lazy_openai\n"
        "lazy_aiogram.install(); lazy_openai.install()\n"
        "import bot.__main__ as entry\n"
        "from bot.app import build_store\n"
        "redis, embedded = build_store(entry.load_settings())\n"
        "assert embedded is None\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'fakeredis')))\n"
    )
    assert _probe(code, tmp_path, **SETTINGS, REDIS_URL="redis://127.0.0.1:1/15") == []


def test_without_redis_url_the_embedded_store_is_fakeredis(tmp_path: Path) -> None:
    # The other side of the test above: the deferred import is there when it is needed.
    code = (
        "import json, sys\n"
        "import bot.__main__ as entry\n"
        "from bot.app import build_store\n"
        "redis, embedded = build_store(entry.load_settings())\n"
        "print(json.dumps([type(redis).__module__.split('.')[0], embedded is not None]))\n"
    )
    settings = {**SETTINGS, "DATA_DIR": str(tmp_path / "data")}
    assert _probe(code, tmp_path, **settings) == ["fakeredis", True]


def test_check_imports_no_store_no_aiogram_and_no_openai(tmp_path: Path) -> None:
    # `python -m bot check` speaks plain HTTP: before, it imported fakeredis and redis (~0.6 s
    # of CPU) for the one exception class it catches.
    code = (
        "import contextlib, io, json, sys\n"
        "import bot.__main__ as entry\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    entry.main(['check'])\n"
        "heavy = ('fakeredis', 'redis', 'aiogram', 'openai', 'lupa')\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(heavy))))\n"
    )
    assert _probe(code, tmp_path, **SETTINGS) == []
