"""MCP_SERVERS_FILE: the MCP servers to start, read without importing the `mcp` SDK (checked by
`python -m bot check`; the SDK, ~50 MiB, is imported only when servers are configured)."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

NAME_LIMIT = 64  # OpenAI function names: ^[a-zA-Z0-9_-]{1,64}$


class McpConfigError(ValueError):
    """MCP_SERVERS_FILE cannot be used: the message names the variable, the file and the line."""


@dataclass(frozen=True, slots=True)
class McpServerConfig:
    """One server: a stdio `command` (with args, env, cwd) or a streamable HTTP `url`."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] | None = None
    cwd: str | None = None
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def load_mcp_config(path: str | Path) -> list[McpServerConfig]:
    """The servers of a JSON or TOML file: {"servers": {name: {...}}} (or "mcpServers").
    Raises McpConfigError with one line naming MCP_SERVERS_FILE, the file and the place."""
    file = Path(path)
    where = f"MCP_SERVERS_FILE={file}"
    try:
        raw = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise McpConfigError(f"{where}: {exc.strerror or type(exc).__name__}") from None
    except UnicodeDecodeError:
        raise McpConfigError(f"{where}: not UTF-8 text") from None
    try:
        data = tomllib.loads(raw) if file.suffix == ".toml" else json.loads(raw)
    except json.JSONDecodeError as exc:
        raise McpConfigError(f"{where}: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except tomllib.TOMLDecodeError as exc:
        raise McpConfigError(f"{where}: {exc}") from None  # "... (at line 3, column 5)"
    servers = data.get("servers", data.get("mcpServers")) if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise McpConfigError(f"{where}: expected a 'servers' table of named servers")
    return [_server(where, str(name), entry) for name, entry in servers.items()]


def _server(where: str, name: str, entry: object) -> McpServerConfig:
    if not isinstance(entry, dict) or not (entry.get("command") or entry.get("url")):
        raise McpConfigError(f"{where}: server {name!r} needs a 'command' or a 'url'")
    env = entry.get("env")
    headers = entry.get("headers") or {}
    if (env is not None and not isinstance(env, dict)) or not isinstance(headers, dict):
        raise McpConfigError(f"{where}: server {name!r}: 'env' and 'headers' must be tables")
    return McpServerConfig(
        name=name,
        command=entry.get("command"),
        args=tuple(str(arg) for arg in entry.get("args", ())),
        env={str(k): str(v) for k, v in env.items()} if env is not None else None,
        cwd=entry.get("cwd"),
        url=entry.get("url"),
        headers={str(k): str(v) for k, v in headers.items()},
    )


def tool_name(server: str, tool: str) -> str:
    """`server__tool`, made a valid function name of at most 64 characters."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", f"{server}__{tool}")
    if len(name) <= NAME_LIMIT:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[: NAME_LIMIT - 9]}_{digest}"
