"""scripts/texts_from_dict.py: texts of the old dict form land in every catalog."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

from babel.messages.pofile import read_po

from bot.telegram.texts import LOCALES

TOOL = Path(__file__).resolve().parents[2] / "scripts" / "texts_from_dict.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("texts_from_dict", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_missing_keys_are_appended_and_untranslated_ones_marked_fuzzy(tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES, locales)
    source = tmp_path / "old_texts.py"
    source.write_text(
        "TEXTS: dict[str, dict[str, str]] = {\n"
        '    "reset_done": {"en": "Changed?", "ru": "Изменено?"},\n'
        '    "brand_new": {"en": "New {thing}.", "ru": "Новое: {thing}."},\n'
        '    "english_only": {"en": "Only in English."},\n'
        "}\n",
        encoding="utf-8",
    )
    _tool().main([str(source), "--locales", str(locales)])
    for lang in ("en", "ru"):
        with (locales / lang / "LC_MESSAGES" / "messages.po").open("rb") as fp:
            catalog = read_po(fp)
        assert catalog["reset_done"].string != "Changed?"  # a key already there is left alone
        assert catalog["brand_new"].string == (
            "New {thing}." if lang == "en" else "Новое: {thing}."
        )
        assert catalog["english_only"].string == "Only in English."
        assert catalog["english_only"].fuzzy == (lang == "ru")
