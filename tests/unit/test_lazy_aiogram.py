"""bot.lazy_aiogram: aiogram's types build on first use, and every one of them can."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot import lazy_aiogram

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter: in this one aiogram's types are already built by other tests."""
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("order", ["updates", "methods"])
def test_every_type_method_and_response_builds_on_first_use(order: str) -> None:
    # Fails if a type, a method or a method's response cannot build lazily (a name left
    # unresolved), if an update kind does not validate, or if the types were built at import.
    done = run("-m", "tests.unit.lazy_types_check", order)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "ok"


def test_too_late_once_aiogram_is_imported() -> None:
    code = (
        "import aiogram.types, bot.lazy_aiogram as lazy\n"
        "print(lazy.install(), lazy.installed(), aiogram.types.Message.__pydantic_complete__)"
    )
    done = run("-c", code)
    assert done.stdout.split() == ["False", "False", "True"], done.stderr


def test_the_suite_runs_on_lazy_types() -> None:
    # tests/conftest.py installs them before any test module imports aiogram, as `python -m bot` does.
    assert lazy_aiogram.installed()


def test_warm_builds_what_every_answer_uses() -> None:
    # A first rich draft built InputRichMessage's schema in the middle of an answer (0.16 s):
    # the final-message tests saw the stream's updates fall behind.
    code = (
        "import bot.lazy_aiogram as lazy\n"
        "lazy.install()\n"
        "import aiogram.types as t\n"
        "names = lazy.HOT_TYPES\n"
        "print(all(getattr(t, n).__pydantic_complete__ for n in names))\n"
        "lazy.warm()\n"
        "print(all(getattr(t, n).__pydantic_complete__ for n in names))\n"
    )
    done = run("-c", code)
    assert done.stdout.split() == ["False", "True"], done.stderr
