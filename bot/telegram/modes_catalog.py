"""The modes on offer: the built-in ones with their catalog texts, then MODES_FILE's (which add
or replace modes). A MODES_FILE that cannot be read is one line at start naming the file and
the line; the built-in modes are offered then."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.core.modes import (
    BUILT_IN,
    BUILT_IN_TUNING,
    DEFAULT_MODE,
    KnownTool,
    Mode,
    ModesFileError,
    read_modes_file,
)
from bot.telegram.texts import LANGS, t

log = logging.getLogger(__name__)


def built_in_modes() -> list[Mode]:
    """assistant (the bot's default prompt), translator, coder, editor, tutor; some with their
    own temperature and tools (BUILT_IN_TUNING)."""
    modes = []
    for mode_id in BUILT_IN:
        titles = {lang: t(f"mode_{mode_id}", lang) for lang in LANGS}
        prompts = None
        if mode_id != DEFAULT_MODE:
            prompts = {lang: t(f"mode_prompt_{mode_id}", lang) for lang in LANGS}
        temperature, tools = BUILT_IN_TUNING.get(mode_id, (None, None))
        modes.append(Mode(mode_id, titles, prompts, None, temperature, tools))
    return modes


def offered_modes(modes_file: Path | None, known_tool: KnownTool | None = None) -> list[Mode]:
    """The built-in modes, then the operator's (a mode naming a tool `known_tool` does not
    know makes the file one line at start)."""
    if modes_file is None:
        return built_in_modes()
    try:
        extra = read_modes_file(modes_file, known_tool)
    except ModesFileError as exc:
        log.error("MODES_FILE not used: %s", exc)
        return built_in_modes()
    return [*built_in_modes(), *extra]
