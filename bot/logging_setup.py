"""Logging for the process: one line per record, and no secret in any of them.

The Bot API URL carries the bot token (`/bot<TOKEN>/method`), and aiohttp puts the URL in the
text of its errors (a malformed reply, a dropped connection): aiogram and the bot log those.
A filter on every handler rewrites each record, message, arguments and traceback alike, before
any handler formats it.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from types import TracebackType

REDACTED = "<redacted>"
# Any Bot API token in a URL path, even one that is not ours (a proxy's, a test's), its ':'
# raw or percent-encoded (an error page echoing the path: "Cannot POST /bot123%3AAA…/x").
TOKEN_IN_URL = re.compile(r"/bot[0-9]+(?::|%3[Aa])[A-Za-z0-9_-]+")
# A user and password in any URL (a proxy in TELEGRAM_API_URL or GONKA_BASE_URL, say).
CREDENTIALS_IN_URL = re.compile(r"(?<=://)[^/@\s:]+:[^/@\s]+@")
LOG_FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"


class Redactor:
    """Replaces the configured secrets, any Bot API token in a URL and any URL's user and
    password with a marker.

    A secret is found however it was written: raw, percent-encoded (either case of hex, '+' for
    a space), JSON-escaped (\\uXXXX, \\/, \\", \\\\), any mix of these character by
    character; and the part of a bot token after its ':' on its own.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        parts = {s for s in secrets if len(s) >= 4}
        parts |= {s.partition(":")[2] for s in parts if BOT_TOKEN.fullmatch(s)}
        # Longest first, so a secret containing another is replaced whole.
        ordered = sorted(parts, key=len, reverse=True)
        pattern = "|".join(_any_encoding(s) for s in ordered)
        self._secrets = re.compile(pattern) if ordered else None

    def __call__(self, text: str) -> str:
        text = TOKEN_IN_URL.sub("/bot" + REDACTED, text)
        text = CREDENTIALS_IN_URL.sub(REDACTED + "@", text)
        if self._secrets is not None:
            text = self._secrets.sub(REDACTED, text)
        return text


BOT_TOKEN = re.compile(r"[0-9]+:[A-Za-z0-9_-]{16,}")
# JSON's two-character escapes; "/" may be written "\\/".
_JSON_SHORT = {'"': '"', "\\": "\\", "/": "/", "\b": "b", "\f": "f", "\n": "n", "\r": "r",
               "\t": "t"}  # fmt: skip


def _any_encoding(secret: str) -> str:
    """A pattern matching `secret` with each character raw, percent-encoded or JSON-escaped."""
    return "".join(_char_forms(char) for char in secret)


def _char_forms(char: str) -> str:
    """The ways one character may be written: itself, its UTF-8 bytes percent-encoded, '+' for
    a space, a JSON escape (short, or \\uXXXX with surrogates past U+FFFF); hex in either case."""
    forms = [re.escape(char), "".join("%" + _hex(byte, 2) for byte in char.encode())]
    if char == " ":
        forms.append(r"\+")
    if char in _JSON_SHORT:
        forms.append(re.escape("\\" + _JSON_SHORT[char]))
    units = char.encode("utf-16-be")
    codes = (int.from_bytes(units[i : i + 2], "big") for i in range(0, len(units), 2))
    forms.append("".join(r"\\u" + _hex(code, 4) for code in codes))
    return "(?:" + "|".join(forms) + ")"


def _hex(value: int, width: int) -> str:
    """A pattern for `value` in hex, each digit a-f in either case."""
    digits = f"{value:0{width}x}"
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in digits)


class RedactingFilter(logging.Filter):
    """A handler filter: the record leaves it with its text already redacted."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redact(record.getMessage())
        record.args = None
        if record.exc_info is not None:
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            record.exc_text = self._redact(text)
        elif record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True


def install_redaction(secrets: Iterable[str], logger: logging.Logger | None = None) -> Redactor:
    """Put the redaction filter on every handler of `logger` (the root logger by default)."""
    redact = Redactor(secrets)
    target = logger or logging.getLogger()
    for handler in target.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(old)
        handler.addFilter(RedactingFilter(redact))
    return redact


def configure_logging(level: str, secrets: Iterable[str] = ()) -> Redactor:
    """One stderr handler at `level`, redacting `secrets`; uncaught errors are logged through it."""
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT)
    # httpx logs full request URLs; the Bot API URL carries the bot token.
    for noisy in ("httpx", "httpx2", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    redact = install_redaction(secrets)
    sys.excepthook = _log_uncaught
    return redact


def _log_uncaught(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    logging.getLogger("bot").critical("uncaught error", exc_info=(kind, error, trace))


def error_kind(exc: BaseException) -> str:
    """A network error by its type and its cause's type, never its text (aiohttp puts the
    request URL, and with it the bot token, in the text)."""
    cause = exc.__cause__ or exc.__context__
    if cause is None:
        return type(exc).__name__
    return f"{type(exc).__name__}({type(cause).__name__})"
