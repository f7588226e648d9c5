"""MODES_FILE: operators' modes read with limits; what does not parse names the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.tools.factory import known_tool
from bot.core.models import ChatKey
from bot.core.modes import MAX_FILE_BYTES, Mode, Modes, ModesFileError, read_modes_file


class MemoryModes:
    def __init__(self) -> None:
        self.chosen: dict[ChatKey, str | None] = {}

    async def mode(self, chat: ChatKey) -> str | None:
        return self.chosen.get(chat)

    async def set_mode(self, chat: ChatKey, mode_id: str | None) -> None:
        self.chosen[chat] = mode_id


def test_toml_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "modes.toml"
    path.write_text('[[mode]]\nid = "a"\nsystem_prompt = \n', encoding="utf-8")
    with pytest.raises(ModesFileError, match=r"modes\.toml: .*line 3"):
        read_modes_file(path)


def test_a_huge_or_malformed_file_is_refused(tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    huge.write_bytes(b"[" + b" " * (MAX_FILE_BYTES + 1) + b"]")
    with pytest.raises(ModesFileError, match="larger than"):
        read_modes_file(huge)
    bad = tmp_path / "bad.json"
    bad.write_text('[{"id": "x y", "system_prompt": "p", "title": "T"}]', encoding="utf-8")
    with pytest.raises(ModesFileError, match="mode 1: id"):
        read_modes_file(bad)
    hot = tmp_path / "hot.json"
    hot.write_text('[{"id": "x", "system_prompt": "p", "title": "T", "temperature": 9}]')
    with pytest.raises(ModesFileError, match="temperature"):
        read_modes_file(hot)


async def test_an_operators_mode_replaces_a_built_in_and_unknown_ids_change_nothing() -> None:
    store = MemoryModes()
    modes = Modes(
        [Mode("assistant", {"en": "Assistant"}), Mode("coder", {"en": "Coder"}, {"en": "old"}),
         Mode("coder", {"en": "Coder+"}, {"en": "new"})],
        store,
    )  # fmt: skip
    chat = ChatKey(1, 9)
    assert [m.id for m in modes.all()] == ["assistant", "coder"]
    assert await modes.choose(chat, "nosuch") is None and store.chosen == {}
    chosen = await modes.choose(chat, "coder")
    assert chosen is not None and chosen.prompt("ru", "en") == "new"
    assert await modes.of(ChatKey(1)) is None  # per topic
    await modes.choose(chat, "assistant")
    assert await modes.of(chat) is None and store.chosen[chat] is None


def test_a_mode_naming_an_unknown_tool_is_refused_with_the_file_and_mode(tmp_path: Path) -> None:
    path = tmp_path / "modes.json"
    entry = '[{"id": "m", "system_prompt": "p", "title": "T", "tools": %s}]'
    path.write_text(entry % '["calculate", "search__find"]', encoding="utf-8")
    [mode] = read_modes_file(path, known_tool)  # a built-in's, an MCP server's tool
    assert mode.tools == ("calculate", "search__find")
    assert mode.for_turn("en", "en").tools == mode.tools
    path.write_text(entry % '["calculate", "calc", "weather"]', encoding="utf-8")
    with pytest.raises(
        ModesFileError, match=r"modes\.json: mode 1 \(m\): unknown tool\(s\) calc, weather$"
    ):
        read_modes_file(path, known_tool)
