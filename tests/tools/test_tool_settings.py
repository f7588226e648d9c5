"""Tool settings (TOOLS defaults, empty = off, validation) and the toolbox built from them."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.adapters.tools.factory import build_toolbox
from bot.config import Settings
from bot.core.models import ToolCall
from bot.workers.pool import WorkerPool
from tests.doubles.fake_open_meteo import FakeOpenMeteo
from tests.tools.test_mcp_servers import SERVER


def _settings(env_file: Path | None = None, **values: Any) -> Settings:
    values = {"bot_token": "1:x", "gonka_api_key": "k"} | values
    return Settings(_env_file=env_file, **values)  # type: ignore[call-arg]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TOOLS", "SEARXNG_URL", "MCP_SERVERS_FILE", "TOOL_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_and_web_search_with_searxng() -> None:
    settings = _settings()
    assert settings.enabled_tools == ("get_weather", "get_time", "calculate", "fetch_url")
    assert (settings.tool_timeout, settings.tool_max_rounds) == (15.0, 4)
    assert settings.open_meteo_geocoding_url == "https://geocoding-api.open-meteo.com/v1/search"
    assert settings.open_meteo_forecast_url == "https://api.open-meteo.com/v1/forecast"
    assert _settings(searxng_url="http://searx:8080").enabled_tools[-1] == "web_search"


def test_tools_listed_or_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOOLS", "calculate, get_time")
    assert _settings().enabled_tools == ("calculate", "get_time")
    monkeypatch.setenv("TOOLS", "")
    assert _settings().enabled_tools == ()
    monkeypatch.setenv("TOOLS", "off")
    assert _settings().enabled_tools == ()
    monkeypatch.delenv("TOOLS")
    env_file = tmp_path / ".env"
    env_file.write_text("TOOLS=\n")
    assert _settings(env_file).enabled_tools == ()
    env_file.write_text("TOOLS=calculate\n")
    assert _settings(env_file).enabled_tools == ("calculate",)
    monkeypatch.setenv("TOOLS", "get_time")  # the environment wins over the file
    assert _settings(env_file).enabled_tools == ("get_time",)


def test_bad_tool_settings_fail_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOLS", "get_weather,teleport")
    with pytest.raises(ValidationError, match="unknown tool"):
        _settings()
    monkeypatch.setenv("TOOLS", "web_search")
    with pytest.raises(ValidationError, match="web_search needs SEARXNG_URL"):
        _settings()


async def test_toolbox_from_settings_with_mcp(tmp_path: Path, jobs: WorkerPool) -> None:
    script = tmp_path / "demo_server.py"
    script.write_text(SERVER)
    config = tmp_path / "mcp.toml"
    config.write_text(f'[servers.demo]\ncommand = "{sys.executable}"\nargs = ["{script}"]\n')
    async with FakeOpenMeteo() as meteo:
        settings = _settings(
            open_meteo_geocoding_url=meteo.geocoding_url,
            open_meteo_forecast_url=meteo.forecast_url,
            mcp_servers_file=config,
            tool_max_rounds=3,
        )
        toolbox = await build_toolbox(settings, jobs)
        try:
            # The built-ins at once; the server's tools when it has started (in the background).
            assert toolbox.registry.names == ["get_weather", "get_time", "calculate", "fetch_url"]
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 120  # only ends a test that would never pass
            while len(toolbox.registry.names) < 7:
                assert loop.time() < deadline
                await asyncio.sleep(0.05)
            tools = await toolbox.registry.for_chat(1)
            assert list(tools) == [
                "get_weather", "get_time", "calculate", "fetch_url",
                "demo__add", "demo__refuse", "demo__slow",
            ]  # fmt: skip
            assert toolbox.max_rounds == 3
            calls = [
                ToolCall("1", "get_weather", '{"location": "Tokyo"}'),
                ToolCall("2", "demo__add", '{"a": 1, "b": 2}'),
            ]
            weather, added = await toolbox.runner.run(calls, tools)
            assert weather.content.startswith("Tokyo, Japan") and added.content == "3"
        finally:
            await toolbox.aclose()


async def test_toolbox_off_and_unreadable_mcp_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, jobs: WorkerPool
) -> None:
    toolbox = await build_toolbox(
        _settings(tools="", mcp_servers_file=tmp_path / "missing.json"), jobs
    )
    assert await toolbox.registry.for_chat(1) == {}
    # One line naming the variable and the file (it named neither).
    assert f"MCP_SERVERS_FILE={tmp_path / 'missing.json'}: No such file" in caplog.text
    await toolbox.aclose()
