"""The inputs section of the settings (issue 16) and how the coalescer is built from it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.config import Settings
from bot.telegram.coalescing import coalesce_config


def settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    monkeypatch.setenv("BOT_TOKEN", "1:x")
    monkeypatch.setenv("GONKA_API_KEY", "k")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    s = settings(monkeypatch)
    assert (s.document_max_bytes, s.document_max_pages, s.document_tokens) == (10 << 20, 50, 6000)
    assert s.vision_models == ()
    config = coalesce_config(s)
    assert config.enabled and (config.gap, config.settle, config.max_wait) == (1.0, 0.3, 3.0)


def test_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    s = settings(
        monkeypatch,
        VISION_MODELS=" Qwen/Qwen2.5-VL-72B , other/vl ",
        COALESCE_WINDOW="0",
        DOCUMENT_MAX_PAGES="5",
    )
    assert s.vision_models == ("Qwen/Qwen2.5-VL-72B", "other/vl")
    assert not coalesce_config(s).enabled and s.document_max_pages == 5


def test_the_bot_never_asks_for_more_than_telegram_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError):
        settings(monkeypatch, DOCUMENT_MAX_BYTES=str(21 * 1024 * 1024))
