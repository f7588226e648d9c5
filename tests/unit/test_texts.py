"""Texts: plurals and numbers per language, and catalogs that agree with each other and the code."""

from __future__ import annotations

import ast
import string
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.plurals import get_plural

from bot.telegram.texts import (
    DEFAULT_LANG,
    LANGS,
    LOCALES,
    catalog_path,
    lang_of,
    number,
    read_catalog,
    t,
)

BOT = Path(__file__).resolve().parents[2] / "bot"
NBSP = "\u00a0"  # CLDR's Russian group separator: Telegram shows it as a space that never breaks


def _tokens(lang: str, total: int) -> str:
    line = t("usage_line", lang, total=total, prompt=0, completion=total, cost=Decimal(0))
    return line.split(" (")[0].replace(NBSP, " ")


@pytest.mark.parametrize(
    ("count", "russian"),
    [
        (1, "1 токен"),
        (2, "2 токена"),
        (4, "4 токена"),
        (5, "5 токенов"),
        (11, "11 токенов"),
        (12, "12 токенов"),
        (14, "14 токенов"),
        (21, "21 токен"),
        (22, "22 токена"),
        (25, "25 токенов"),
        (101, "101 токен"),
        (111, "111 токенов"),
        (0, "0 токенов"),
        (12345, "12 345 токенов"),
    ],
)
def test_russian_plurals(count: int, russian: str) -> None:
    assert _tokens("ru", count) == russian


@pytest.mark.parametrize(
    ("count", "english"),
    [(1, "1 token"), (2, "2 tokens"), (0, "0 tokens"), (21, "21 tokens"), (12345, "12,345 tokens")],
)
def test_english_plurals(count: int, english: str) -> None:
    assert _tokens("en", count) == english


def test_numbers_are_written_per_language() -> None:
    assert number(12345, "en") == "12,345"
    assert number(12345, "ru") == f"12{NBSP}345"
    assert number(Decimal("0.00012300"), "en") == "0.000123"
    assert number(Decimal("0.00012300"), "ru") == "0,000123"
    assert number(1234567.5, "ru") == f"1{NBSP}234{NBSP}567,5"


def test_a_plural_in_the_middle_of_a_sentence() -> None:
    assert t("quota_day", "ru", limit=21, reset="00:00").startswith(
        "Вы израсходовали дневную квоту в 21 токен."
    )
    assert t("quota_month", "ru", limit=3, reset="x").startswith(
        "Вы израсходовали месячную квоту в 3 токена."
    )
    assert "(1 token, the limit is 1,000)" in t("error_too_long", "en", tokens=1, limit=1000)
    stats = [t("stats_requests", "ru", requests=3), t("stats_active_users", "ru", active=1)]
    assert stats == ["3 запроса", "1 активный пользователь"]


def test_ids_are_not_written_as_numbers() -> None:
    assert "12345678" in t("access_denied", "en", user_id=12345678)
    assert "-1001234567" in t("admin_done", "ru", action="block", kind="chat", id=-1001234567)


def test_a_plural_needs_its_count() -> None:
    with pytest.raises(KeyError):
        t("quota_day", "en", reset="x")
    with pytest.raises(TypeError):
        t("quota_day", "en", limit="many", reset="x")


def test_unknown_keys_fail_and_unknown_languages_read_english() -> None:
    with pytest.raises(KeyError):
        t("no_such_text", "en")
    assert t("reset_done", "de") == t("reset_done", "en")


def test_language_of_a_telegram_user() -> None:
    assert lang_of("ru") == "ru"
    assert lang_of("RU-ru") == "ru"
    assert lang_of("en-GB") == "en"
    assert lang_of("de") == DEFAULT_LANG
    assert lang_of(None) == DEFAULT_LANG
    assert set(LANGS) == {p.name for p in LOCALES.iterdir() if catalog_path(p.name).is_file()}
    assert LANGS[0] == DEFAULT_LANG and "ru" in LANGS


# ------------------------------------------------------------------ the catalogs themselves


def _messages(catalog: Catalog) -> dict[str, Message]:
    return {_key(m): m for m in catalog if m.id}


def _key(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _forms(message: Message) -> list[str]:
    return [message.string] if isinstance(message.string, str) else list(message.string)


def _fields(text: str) -> set[tuple[str, str]]:
    return {(name, spec or "") for _, name, spec, _ in string.Formatter().parse(text) if name}


def _catalogs() -> dict[str, Catalog]:
    return {lang: read_catalog(catalog_path(lang)) for lang in LANGS}


def test_every_language_has_every_key_and_no_other() -> None:
    catalogs = _catalogs()
    keys = set(_messages(catalogs[DEFAULT_LANG]))
    for lang, catalog in catalogs.items():
        have = set(_messages(catalog))
        assert have == keys, f"{lang}: missing {keys - have}, unknown {have - keys}"


def test_placeholders_agree_across_languages_and_plural_forms() -> None:
    catalogs = _catalogs()
    source = _messages(catalogs[DEFAULT_LANG])
    for lang, catalog in catalogs.items():
        for key, message in _messages(catalog).items():
            wanted = _fields(_forms(source[key])[-1])
            assert message.id == source[key].id, f"{lang}/{key}: plural or count differs"
            for form in _forms(message):
                assert form, f"{lang}/{key}: empty translation"
                assert _fields(form) == wanted, f"{lang}/{key}: placeholders differ in {form!r}"
            if not isinstance(message.id, str):
                assert (message.id[1], "n") in wanted, f"{lang}/{key}: no {{{message.id[1]}:n}}"


def test_plural_rules_are_the_languages_own() -> None:
    for lang, catalog in _catalogs().items():
        rule = get_plural(lang)
        assert catalog.num_plurals == rule.num_plurals, (
            f"{lang}: set the header to Plural-Forms: {rule.plural_forms}"
        )
        for key, message in _messages(catalog).items():
            if not isinstance(message.id, str):
                assert len(_forms(message)) == rule.num_plurals, f"{lang}/{key}: plural forms"
        assert not any(m.fuzzy for m in catalog if m.id), f"{lang}: fuzzy entries are not shown"


def _used_keys() -> set[str]:
    """Keys named literally in the code: t("key", ...), t("a" if x else "b", ...) and the
    `text_key`s of domain errors and denials."""
    keys: set[str] = set()
    for path in BOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("t", "Denial"):
                keys |= _constants(node.args[0]) if node.args else set()
            elif isinstance(node, ast.Assign) and any(
                getattr(target, "id", None) == "text_key" for target in node.targets
            ):
                keys |= _constants(node.value)
    return keys


def _constants(node: ast.expr) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _constants(node.body) | _constants(node.orelse)
    return set()


def test_every_key_the_code_uses_is_in_the_catalogs() -> None:
    used = _used_keys()
    assert {"start", "usage_line", "error_storage", "access_denied", "health_bad"} <= used
    missing = used - set(_messages(_catalogs()[DEFAULT_LANG]))
    assert not missing, f"add these keys to every bot/locales/*/LC_MESSAGES/messages.po: {missing}"
