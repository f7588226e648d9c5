"""Start-up of the store: an empty REDIS_URL switches Redis off, an unreachable Redis is retried
visibly, and a webhook without Redis is told it must stay one replica."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.adapters.redis_client import wait_until_reachable
from bot.app import build_store
from bot.config import Settings
from bot.startup import StartupError


def test_an_empty_variable_wins_over_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("BOT_TOKEN=1:x\nGONKA_API_KEY=k\nREDIS_URL=redis://10.0.0.9:6379/0\n")
    assert Settings(_env_file=env_file).redis_url == "redis://10.0.0.9:6379/0"  # type: ignore[call-arg]
    monkeypatch.setenv("REDIS_URL", "")
    assert Settings(_env_file=env_file).redis_url is None  # type: ignore[call-arg]


class _Flaky:
    def __init__(self, failures: int) -> None:
        self.failures = failures

    async def ping(self) -> bool:
        if self.failures:
            self.failures -= 1
            raise RedisConnectionError("Connection refused")
        return True


async def test_unreachable_redis_is_retried_with_one_line_per_try(
    caplog: pytest.LogCaptureFixture,
) -> None:
    flaky = _Flaky(failures=3)
    with caplog.at_level(logging.ERROR):
        await wait_until_reachable(
            flaky,  # type: ignore[arg-type]
            "redis://user:s3cret@cache:6379/0",
            first=0.01,
        )
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert "redis://cache:6379/0 is unreachable (ConnectionError): retrying in" in lines[0]
    assert "REDIS_URL" in lines[0]
    assert not any("s3cret" in line for line in lines)


async def test_a_webhook_without_redis_is_told_to_stay_one_replica(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, bot_token="1:x", gonka_api_key="k", data_dir=tmp_path,
        webhook_url="https://bot.example/hook", webhook_secret="s",
    )  # fmt: skip
    with caplog.at_level(logging.WARNING):
        _, store = build_store(settings)
    assert store is not None
    await store.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "need REDIS_URL" in warnings[0]


def _store_settings(data_dir: Path) -> Settings:
    return Settings(_env_file=None, bot_token="1:x", gonka_api_key="k", data_dir=data_dir)  # type: ignore[call-arg]


def test_an_unusable_data_dir_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    with pytest.raises(StartupError) as stop:
        build_store(_store_settings(blocked / "data"))
    assert str(stop.value).startswith(f"DATA_DIR={blocked / 'data'}: Not a directory. ")
    assert "\n" not in str(stop.value)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "store.json").write_text("{broken")
    with pytest.raises(StartupError) as stop:
        build_store(_store_settings(tmp_path / "data"))
    assert "unreadable store.json" in str(stop.value)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "store.sqlite3").write_bytes(b"not a database, but 100 bytes long " * 3)
    with pytest.raises(StartupError) as stop:
        build_store(_store_settings(tmp_path / "other"))
    assert "unreadable store.sqlite3" in str(stop.value)
