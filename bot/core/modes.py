"""Chat modes: a tuned system prompt, and optionally a model, a temperature and the tools on.

The built-in modes come with their texts in every catalog language (the Telegram layer reads
them); operators add or replace modes in MODES_FILE (TOML or JSON). A chat's mode is kept per
conversation (per topic where topics are conversations); its own /system prompt ("custom")
comes before any mode's."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.models import ChatKey, Lang
from bot.core.ports import ModeStore

DEFAULT_MODE = "assistant"
BUILT_IN = ("assistant", "translator", "coder", "editor", "tutor")
MAX_MODES = 50
MAX_PROMPT_CHARS = 8000
MAX_FILE_BYTES = 1_000_000
# The built-in modes' own temperature and tools (None: the bot's, the chat's). A translation or
# an edit reworks the user's own text: no tools (a question is translated, not answered) and
# little randomness; code wants it low too.
BUILT_IN_TUNING: Mapping[str, tuple[float | None, tuple[str, ...] | None]] = {
    "translator": (0.3, ()),
    "editor": (0.4, ()),
    "coder": (0.2, None),
}

# Whether a name is a tool this bot may have (checks MODES_FILE's `tools`).
KnownTool = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class TurnMode:
    """What the chat's mode sets for one turn: the system prompt (its own /system comes first),
    the model (the chat's when it is gone), the temperature and the tools that may be offered
    and called; None: the chat's or the bot's own, and `tools=()` offers none."""

    prompt: str | None = None
    model: str | None = None
    temperature: float | None = None
    tools: tuple[str, ...] | None = None


NO_MODE = TurnMode()  # the default mode: the chat's and the bot's own settings


@dataclass(frozen=True, slots=True)
class Mode:
    """One mode: its id, title and system prompt per language (None: the bot's default prompt),
    and the model, temperature and tools it picks (None: the chat's)."""

    id: str
    titles: Mapping[Lang, str]
    prompts: Mapping[Lang, str] | None = None
    model: str | None = None
    temperature: float | None = None
    tools: tuple[str, ...] | None = None

    def title(self, lang: Lang, fallback: Lang) -> str:
        return self.titles.get(lang) or self.titles.get(fallback) or self.id

    def prompt(self, lang: Lang, fallback: Lang) -> str | None:
        if self.prompts is None:
            return None
        return (
            self.prompts.get(lang)
            or self.prompts.get(fallback)
            or next(iter(self.prompts.values()))
        )

    def for_turn(self, lang: Lang, fallback: Lang) -> TurnMode:
        """What this mode sets for a turn in `lang`."""
        return TurnMode(self.prompt(lang, fallback), self.model, self.temperature, self.tools)


class ModesFileError(ValueError):
    """MODES_FILE cannot be read: the message names the file and the line (or the entry)."""


def read_modes_file(path: Path, known_tool: KnownTool | None = None) -> list[Mode]:
    """The modes a TOML or JSON file defines (`[[mode]]` tables, or a JSON list or {"mode": [...]});
    with `known_tool`, a mode naming a tool it does not know is refused."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ModesFileError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModesFileError(f"{path}: cannot be read ({type(exc).__name__})") from exc
    try:
        data: Any = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except json.JSONDecodeError as exc:
        raise ModesFileError(f"{path}: line {exc.lineno}: {exc.msg}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ModesFileError(f"{path}: {exc}") from exc
    entries = data.get("mode", data.get("modes")) if isinstance(data, dict) else data
    if not isinstance(entries, list) or len(entries) > MAX_MODES:
        raise ModesFileError(f"{path}: expected a list of at most {MAX_MODES} modes")
    return [_mode(path, index, entry, known_tool) for index, entry in enumerate(entries, 1)]


def _mode(path: Path, index: int, entry: Any, known_tool: KnownTool | None) -> Mode:
    where = f"{path}: mode {index}"
    if not isinstance(entry, dict):
        raise ModesFileError(f"{where}: not a table")
    mode_id, prompt = entry.get("id"), entry.get("system_prompt")
    title = entry.get("title")
    if not isinstance(mode_id, str) or not mode_id.isidentifier() or len(mode_id) > 32:
        raise ModesFileError(f"{where}: id must be a short name (letters, digits, _)")
    if isinstance(title, str):
        title = {"en": title}
    if not isinstance(title, dict) or not all(isinstance(v, str) for v in title.values()):
        raise ModesFileError(f"{where} ({mode_id}): title must be a text or a table per language")
    prompts = {"en": prompt} if isinstance(prompt, str) else prompt
    if not isinstance(prompts, dict) or not all(
        isinstance(v, str) and 0 < len(v) <= MAX_PROMPT_CHARS for v in prompts.values()
    ):
        raise ModesFileError(f"{where} ({mode_id}): system_prompt must be a text")
    return Mode(
        mode_id, dict(title), dict(prompts), _optional(where, entry, "model", str),
        _temperature(where, entry), _tools(f"{where} ({mode_id})", entry, known_tool),
    )  # fmt: skip


def _optional(where: str, entry: dict[str, Any], key: str, kind: type) -> Any:
    value = entry.get(key)
    if value is not None and not isinstance(value, kind):
        raise ModesFileError(f"{where}: {key} must be a {kind.__name__}")
    return value


def _temperature(where: str, entry: dict[str, Any]) -> float | None:
    value = entry.get("temperature")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 2:
        raise ModesFileError(f"{where}: temperature must be a number from 0 to 2")
    return float(value)


def _tools(
    where: str, entry: dict[str, Any], known_tool: KnownTool | None
) -> tuple[str, ...] | None:
    value = entry.get("tools")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ModesFileError(f"{where}: tools must be a list of tool names")
    unknown = [name for name in value if known_tool is not None and not known_tool(name)]
    if unknown:
        raise ModesFileError(f"{where}: unknown tool(s) {', '.join(unknown)}")
    return tuple(value)


class Modes:
    """The modes on offer (the default first) and each chat's choice."""

    def __init__(self, modes: Sequence[Mode], store: ModeStore) -> None:
        by_id: dict[str, Mode] = {}
        for mode in modes:
            by_id[mode.id] = mode  # a later one (the operator's) replaces a built-in
        self._modes, self._store = by_id, store

    def all(self) -> list[Mode]:
        """Every mode, the default first."""
        default = self._modes.get(DEFAULT_MODE)
        rest = [m for i, m in self._modes.items() if i != DEFAULT_MODE]
        return [default, *rest] if default else rest

    def get(self, mode_id: str) -> Mode | None:
        return self._modes.get(mode_id)

    async def of(self, chat: ChatKey) -> Mode | None:
        """The chat's mode; None for the default (or a mode that is no longer offered)."""
        return self.chosen(await self._store.mode(chat))

    def chosen(self, mode_id: str | None) -> Mode | None:
        """The mode a chat chose as `mode_id` (read with its settings); None as in `of`."""
        return self._modes.get(mode_id) if mode_id and mode_id != DEFAULT_MODE else None

    async def choose(self, chat: ChatKey, mode_id: str) -> Mode | None:
        """Switch the chat to `mode_id`; None (nothing changed) when there is no such mode."""
        mode = self._modes.get(mode_id)
        if mode is None:
            return None
        await self._store.set_mode(chat, None if mode_id == DEFAULT_MODE else mode_id)
        return mode
