"""What the bot's main process imports at start: only what a configured feature needs."""

from __future__ import annotations

import subprocess
import sys

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
