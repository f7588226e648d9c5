"""BUILTIN: one line per built-in tool, read by the settings (TOOLS) and the factory alike; the
tools' status lines come from the catalogs, in every language the bot has."""

from __future__ import annotations

from typing import Any

import pytest

from bot.adapters.tools.factory import BUILTIN, Builtin, builtin_tools
from bot.adapters.tools.http import tool_session
from bot.adapters.tools.open_meteo import TimeTool
from bot.config import Settings
from bot.telegram.texts import LANGS, catalog_path, read_catalog
from bot.workers.pool import WorkerLimits, WorkerPool


def _settings(**values: Any) -> Settings:
    values = {"bot_token": "1:x", "gonka_api_key": "k"} | values
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TOOLS", "SEARXNG_URL", "MCP_SERVERS_FILE"):
        monkeypatch.delenv(name, raising=False)


async def test_each_builtin_is_named_as_listed_and_has_its_status_line_in_every_catalog() -> None:
    settings = _settings(tools=",".join(BUILTIN), searxng_url="http://searx:8080")
    async with tool_session() as session:
        tools = builtin_tools(settings, session, WorkerPool(WorkerLimits()))
    assert [tool.spec.name for tool in tools] == list(BUILTIN)
    catalogs = {lang: read_catalog(catalog_path(lang)) for lang in LANGS}
    for tool in tools:
        line = tool.status({})
        assert line.key == f"tool_{tool.spec.name}"
        for lang, catalog in catalogs.items():
            text = catalog.get(line.key)
            assert text is not None and "{detail}" in text.string, (lang, line.key)
    assert all(catalog.get("tool_other") is not None for catalog in catalogs.values())


def test_a_new_tool_is_one_registry_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # No other list to extend: TOOLS accepts it, the default set includes it, the factory makes it.
    monkeypatch.setitem(BUILTIN, "clock", Builtin(lambda needs: TimeTool(needs.geocoder)))
    assert _settings().enabled_tools == (
        "get_weather",
        "get_time",
        "calculate",
        "fetch_url",
        "clock",
    )
    assert _settings(tools="clock").enabled_tools == ("clock",)
    monkeypatch.setitem(BUILTIN, "searchy", Builtin(BUILTIN["web_search"].make, "searxng_url"))
    with pytest.raises(ValueError, match="TOOLS: searchy needs SEARXNG_URL"):
        _settings(tools="searchy")


def test_settings_without_tools_listed_do_not_import_the_tools() -> None:
    # `python -m bot check` validates settings: the tools' code is read only when TOOLS lists some.
    import subprocess
    import sys

    code = (
        "import sys; from bot.config import Settings; "
        "Settings(_env_file=None, bot_token='1:x', gonka_api_key='k'); "
        "assert 'bot.adapters.tools.factory' not in sys.modules, 'imported'"
    )
    env = {"PATH": "/usr/bin:/bin"}  # no TOOLS: the default set
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)
