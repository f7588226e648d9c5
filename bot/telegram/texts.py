"""User-facing texts: gettext catalogs (bot/locales/<lang>/LC_MESSAGES/messages.po), one per
language, read through aiogram's i18n with Babel. English is the default and the fallback.

The catalogs are keyed: a msgid is the key the code passes to `t()`. A plural entry's
msgid_plural names the value that counts (`msgid "quota_day"`, `msgid_plural "limit"`), and
`{name:n}` shows a number in the language's own format (12,345 in English, 12 345 in Russian).
The .po files are compiled in memory at import, so there is no build step and no .mo to go stale.
"""

from __future__ import annotations

import gettext
import io
import string
from decimal import Decimal
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from bot.core.models import Lang as Lang  # one Lang: the core's

LOCALES = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
DEFAULT_LANG: Lang = "en"


def catalog_path(lang: Lang, root: Path = LOCALES) -> Path:
    return root / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(path: Path) -> Catalog:
    """The Babel catalog of one .po file, its language taken from the folder name."""
    with path.open("rb") as fp:
        return read_po(fp, locale=path.parent.parent.name, domain=DOMAIN)


def compile_catalog(catalog: Catalog) -> gettext.GNUTranslations:
    """What `pybabel compile` writes to a .mo file, done in memory."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class CatalogI18n(I18n):
    """aiogram's I18n, fed from the .po files themselves instead of compiled .mo files."""

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        found = {
            folder.name: compile_catalog(read_catalog(catalog_path(folder.name, self.path)))
            for folder in sorted(self.path.iterdir())
            if catalog_path(folder.name, self.path).is_file()
        }
        default = found[self.default_locale]
        for lang, translations in found.items():
            if lang != self.default_locale:
                translations.add_fallback(default)
        return found


def _counts(catalog: Catalog) -> dict[str, str | None]:
    """Each key with the name of the value that counts (plurals), else None."""
    counts: dict[str, str | None] = {}
    for message in catalog:
        if not message.id:
            continue  # the header
        if isinstance(message.id, str):
            counts[message.id] = None
        else:
            counts[message.id[0]] = message.id[1]
    return counts


class _Formatter(string.Formatter):
    """str.format, where the `n` format spec writes a number the way `lang` writes it."""

    def __init__(self, locale: Locale) -> None:
        self._locale = locale

    def format_field(self, value: object, format_spec: str) -> str:
        if format_spec == "n":
            if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
                return format_decimal(value, locale=self._locale, decimal_quantization=False)
            return str(value)
        return str(super().format_field(value, format_spec))


_I18N = CatalogI18n(path=LOCALES, default_locale=DEFAULT_LANG, domain=DOMAIN)
_COUNTS = _counts(read_catalog(catalog_path(DEFAULT_LANG)))
_FORMATTERS = {lang: _Formatter(Locale.parse(lang)) for lang in _I18N.available_locales}
LANGS: tuple[Lang, ...] = (
    DEFAULT_LANG,
    *sorted(lang for lang in _I18N.available_locales if lang != DEFAULT_LANG),
)


def lang_of(language_code: str | None) -> Lang:
    """The user's Telegram language when there is a catalog for it ("pt-br" reads "pt"),
    English otherwise."""
    base = (language_code or "").lower().replace("_", "-").split("-")[0]
    return base if base in _FORMATTERS else DEFAULT_LANG


def t(key: str, lang: Lang, **values: object) -> str:
    """The text `key` in `lang`, formatted with `values`. A plural entry picks its form by the
    value its msgid_plural names (e.g. `t("quota_day", lang, limit=21, reset=...)`)."""
    counted = _COUNTS[key]
    if lang not in _FORMATTERS:
        lang = DEFAULT_LANG
    if counted is None:
        text = _I18N.gettext(key, locale=lang)
    else:
        count = values[counted]
        if not isinstance(count, int | float | Decimal):
            raise TypeError(f"{key}: the count {counted!r} must be a number")
        text = _I18N.gettext(key, counted, n=int(count), locale=lang)
    return _FORMATTERS[lang].vformat(text, (), values) if values else text


def number(value: int | float | Decimal, lang: Lang) -> str:
    """A number written the way `lang` writes it: 12,345 in English, 12 345 in Russian."""
    return _FORMATTERS.get(lang, _FORMATTERS[DEFAULT_LANG]).format_field(value, "n")
