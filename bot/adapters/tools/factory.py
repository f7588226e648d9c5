"""Builds the enabled tools from settings: the built-ins, then the MCP servers' tools.

BUILTIN is the one list of built-in tools: TOOLS is checked against it, and a new tool is its
module plus one line here (and its status line, `tool_<name>`, in the catalogs).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp

from bot.adapters.tools.calculate import CalculateTool
from bot.adapters.tools.fetch_url import FetchLimits, FetchUrlTool
from bot.adapters.tools.http import tool_session
from bot.adapters.tools.mcp_config import McpConfigError, load_mcp_config
from bot.adapters.tools.open_meteo import OpenMeteoGeocoder, TimeTool, WeatherTool
from bot.adapters.tools.web_search import SearxngSearchTool
from bot.config_tools import ToolSettings
from bot.core.budget import estimate_tokens
from bot.core.jobs import JobRunner
from bot.core.tool_runner import ToolLimits, ToolRunner
from bot.core.tools import Tool, ToolRegistry, ToolSwitches

if TYPE_CHECKING:  # the SDK (~50 MiB) is imported only when MCP servers are configured
    from bot.adapters.tools.mcp_servers import McpHub

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


@dataclass(frozen=True, slots=True)
class Needs:
    """What a built-in tool is made with."""

    settings: ToolSettings
    session: aiohttp.ClientSession
    jobs: JobRunner  # runs the CPU-heavy part (calculate, a page's text) in worker processes
    geocoder: OpenMeteoGeocoder


@dataclass(frozen=True, slots=True)
class Builtin:
    """A built-in tool: how it is made, and the setting it needs to be on (None: none)."""

    make: Callable[[Needs], Tool]
    needs: str | None = None


BUILTIN: dict[str, Builtin] = {
    "get_weather": Builtin(
        lambda n: WeatherTool(n.session, n.geocoder, n.settings.open_meteo_forecast_url)
    ),
    "get_time": Builtin(lambda n: TimeTool(n.geocoder)),
    "calculate": Builtin(lambda n: CalculateTool(n.jobs)),
    "fetch_url": Builtin(
        lambda n: FetchUrlTool(
            FetchLimits(timeout=max(n.settings.tool_timeout - 1, 1)), jobs=n.jobs
        )
    ),
    "web_search": Builtin(
        lambda n: SearxngSearchTool(n.session, n.settings.searxng_url or ""), "searxng_url"
    ),
}


def known_tool(name: str) -> bool:
    """Whether `name` may be a tool of this bot (MODES_FILE's `tools`): a built-in's, or an MCP
    server's tool (`server__tool`; which ones a server has is known only once it runs)."""
    return name in BUILTIN or "__" in name


def builtin_tools(
    settings: ToolSettings, session: aiohttp.ClientSession, jobs: JobRunner
) -> list[Tool]:
    """The built-in tools TOOLS turns on, in the order listed."""
    geocoder = OpenMeteoGeocoder(session, settings.open_meteo_geocoding_url)
    needs = Needs(settings, session, jobs, geocoder)
    return [BUILTIN[name].make(needs) for name in settings.enabled_tools]


async def build_toolbox(
    settings: ToolSettings,
    jobs: JobRunner,
    switches: ToolSwitches | None = None,
    context_budget: int = 16000,
) -> Toolbox:
    """The tools of this bot: call once at start-up, `aclose()` at shutdown. It returns at once:
    MCP servers start in the background and their tools are offered when each is ready (a
    config file that cannot be read is logged in one line and skipped)."""
    session = (
        tool_session(timeout=max(settings.tool_timeout - 1, 1)) if settings.enabled_tools else None
    )
    tools = builtin_tools(settings, session, jobs) if session is not None else []
    registry = ToolRegistry(tools, switches)
    hub = None
    if settings.mcp_servers_file is not None:
        # MCP tools' definitions may take MCP_TOOLS_SHARE of the context, less the built-ins'.
        taken = estimate_tokens(json.dumps([tool.spec.as_openai() for tool in tools]))
        share = int(context_budget * settings.mcp_tools_share)
        hub = start_mcp(settings, registry, max(share - taken, 0))
    limits = ToolLimits(
        timeout=settings.tool_timeout,
        result_tokens=settings.tool_result_tokens,
        max_calls=settings.tool_max_calls_per_round,
    )
    log.info("tools ready names=%s", ",".join(tool.spec.name for tool in tools) or "none")
    return Toolbox(registry, ToolRunner(limits), settings.tool_max_rounds, session, hub)


def start_mcp(settings: ToolSettings, registry: ToolRegistry, tools_tokens: int) -> McpHub | None:
    """Start the servers of MCP_SERVERS_FILE in the background, their tools' definitions
    within `tools_tokens`."""
    assert settings.mcp_servers_file is not None
    try:
        configs = load_mcp_config(settings.mcp_servers_file)
    except McpConfigError as exc:
        log.error("mcp servers not started: %s", exc)
        return None
    from bot.adapters.tools.mcp_servers import McpHub, McpLimits

    limits = McpLimits(
        call_timeout=max(settings.tool_timeout - 1, 1),
        max_message_bytes=settings.mcp_max_message_bytes,
        tools_tokens=tools_tokens,
    )
    hub = McpHub(configs, registry.add, limits)
    hub.start()
    return hub
