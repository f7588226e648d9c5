"""Settings of the tools the model may call (a mixin of Settings)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from dotenv import dotenv_values
from pydantic import Field, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
)

OFF = ("off", "none", "-")


class ToolSettings(BaseSettings):
    """TOOLS, TOOL_TIMEOUT, TOOL_MAX_ROUNDS, TOOL_MAX_CALLS_PER_ROUND, TOOL_RESULT_TOKENS, the tools'
    URLs, MCP_*."""

    tools: Annotated[tuple[str, ...] | None, NoDecode] = None
    tool_timeout: float = Field(default=15.0, gt=0, le=300)
    tool_max_rounds: int = Field(default=4, ge=1, le=20)
    tool_max_calls_per_round: int = Field(default=8, ge=1, le=64)
    tool_result_tokens: int = Field(default=1500, ge=100)
    open_meteo_geocoding_url: str = "https://geocoding-api.open-meteo.com/v1/search"
    open_meteo_forecast_url: str = "https://api.open-meteo.com/v1/forecast"
    searxng_url: str | None = None
    mcp_servers_file: Path | None = None
    # What the MCP servers' tool definitions may take of CONTEXT_TOKEN_BUDGET (the rest of their
    # tools are left out, said at start), and the most bytes of one message of a stdio server.
    mcp_tools_share: float = Field(default=0.25, gt=0, le=0.9)
    mcp_max_message_bytes: int = Field(default=4 * 1024 * 1024, ge=64 * 1024, le=256 * 1024 * 1024)

    @field_validator("tools", mode="before")
    @classmethod
    def _parse_tools(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().lower() in (*OFF, ""):
                return ()
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _known_tools(self) -> ToolSettings:
        if not self.tools:
            return self
        from bot.adapters.tools.factory import BUILTIN  # the tools' code: only when listed

        unknown = [name for name in self.tools if name not in BUILTIN]
        if unknown:
            known = ", ".join(BUILTIN)
            raise ValueError(f"TOOLS: unknown tool(s) {', '.join(unknown)}; known: {known}")
        for name in self.tools:
            needs = BUILTIN[name].needs
            if needs is not None and not getattr(self, needs):
                raise ValueError(f"TOOLS: {name} needs {needs.upper()}")
        return self

    @property
    def enabled_tools(self) -> tuple[str, ...]:
        """The built-in tools that are on: TOOLS, or when it is not set every built-in whose
        setting is there (web_search with SEARXNG_URL); empty when TOOLS is empty or "off"."""
        from bot.adapters.tools.factory import BUILTIN

        if self.tools is not None:
            return self.tools
        return tuple(
            n for n, tool in BUILTIN.items() if not tool.needs or getattr(self, tool.needs)
        )


class EmptyToolsSource(PydanticBaseSettingsSource):
    """Placed by Settings.settings_customise_sources: `TOOLS=` turns tools off, though empty variables are otherwise ignored (env_ignore_empty)."""

    def __init__(self, settings_cls: type[BaseSettings], env_file: Any) -> None:
        super().__init__(settings_cls)
        self._env_file = env_file

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        for name, value in os.environ.items():
            if name.upper() == "TOOLS":
                return {"tools": ()} if value == "" else {}
        files = self._env_file if isinstance(self._env_file, list | tuple) else [self._env_file]
        found: str | None = None
        for file in files:
            if file and Path(file).is_file():
                values = {k.upper(): v for k, v in dotenv_values(file).items()}
                found = values.get("TOOLS", found)
        return {"tools": ()} if found == "" else {}
