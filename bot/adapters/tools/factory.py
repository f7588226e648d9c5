"""Builds the enabled tools from settings: the built-ins, then the MCP servers' tools."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from bot.adapters.tools.calculate import CalculateTool
from bot.adapters.tools.fetch_url import FetchLimits, FetchUrlTool
from bot.adapters.tools.http import tool_session
from bot.adapters.tools.mcp_servers import McpHub, load_mcp_config
from bot.adapters.tools.open_meteo import OpenMeteoGeocoder, TimeTool, WeatherTool
from bot.adapters.tools.web_search import SearxngSearchTool
from bot.config_tools import ToolSettings
from bot.core.jobs import JobRunner
from bot.core.tool_runner import ToolLimits, ToolRunner
from bot.core.tools import Tool, ToolRegistry, ToolSwitches

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Toolbox:
    """What the composition root keeps: the registry, the runner, the round cap, and the
    resources to close on shutdown (the HTTP session, the MCP servers)."""

    registry: ToolRegistry
    runner: ToolRunner
    max_rounds: int
    _session: aiohttp.ClientSession | None
    _mcp: McpHub | None

    async def aclose(self) -> None:
        if self._mcp is not None:
            await self._mcp.aclose()
        if self._session is not None:
            await self._session.close()


def builtin_tools(
    settings: ToolSettings, session: aiohttp.ClientSession, jobs: JobRunner
) -> list[Tool]:
    """The built-in tools TOOLS turns on, in the order listed; `jobs` runs their CPU-heavy part
    (calculate, a page's text) in worker processes."""
    geocoder = OpenMeteoGeocoder(session, settings.open_meteo_geocoding_url)
    fetch_timeout = max(settings.tool_timeout - 1, 1)
    makers: dict[str, Callable[[], Tool]] = {
        "get_weather": lambda: WeatherTool(session, geocoder, settings.open_meteo_forecast_url),
        "get_time": lambda: TimeTool(geocoder),
        "calculate": lambda: CalculateTool(jobs),
        "fetch_url": lambda: FetchUrlTool(FetchLimits(timeout=fetch_timeout), jobs=jobs),
        "web_search": lambda: SearxngSearchTool(session, settings.searxng_url or ""),
    }
    return [makers[name]() for name in settings.enabled_tools]


async def build_toolbox(
    settings: ToolSettings, jobs: JobRunner, switches: ToolSwitches | None = None
) -> Toolbox:
    """The tools of this bot: call once at start-up, `aclose()` at shutdown. MCP servers that
    fail to start (or a config file that cannot be read) are logged and skipped."""
    session = (
        tool_session(timeout=max(settings.tool_timeout - 1, 1)) if settings.enabled_tools else None
    )
    tools = builtin_tools(settings, session, jobs) if session is not None else []
    hub = None
    if settings.mcp_servers_file is not None:
        try:
            configs = load_mcp_config(settings.mcp_servers_file)
        except (OSError, ValueError) as exc:
            log.error("mcp config unreadable error=%s", exc)
        else:
            hub = McpHub(configs)
            mcp_tools = await hub.start()
            taken = {tool.spec.name for tool in tools}
            tools += [tool for tool in mcp_tools if tool.spec.name not in taken]
    limits = ToolLimits(
        timeout=settings.tool_timeout,
        result_tokens=settings.tool_result_tokens,
        max_calls=settings.tool_max_calls_per_round,
    )
    log.info("tools ready names=%s", ",".join(tool.spec.name for tool in tools) or "none")
    return Toolbox(
        ToolRegistry(tools, switches), ToolRunner(limits), settings.tool_max_rounds, session, hub
    )
