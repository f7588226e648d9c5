"""Gonka Telegram bot. The version lives in pyproject.toml only; this reads it back."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gonka-telegram-bot")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "unknown"
