"""Flood control and text/entity validation for the fake Telegram Bot API server.

Everything here mirrors what the real Bot API answers (error texts included), but is a deliberately
strict model: where Telegram silently "fixes" something (e.g. badly nested entities), this fake
refuses it with ``400 Bad Request: can't parse entities: ...`` so the bot cannot rely on luck.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_TEXT_UTF16 = 4096

ENTITY_TYPES = frozenset(
    {
        "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number",
        "bold", "italic", "underline", "strikethrough", "spoiler", "blockquote",
        "expandable_blockquote", "code", "pre", "text_link", "text_mention", "custom_emoji",
        "date_time",
    }
)  # fmt: skip
STYLE_TYPES = frozenset({"bold", "italic", "underline", "strikethrough", "spoiler"})
CODE_TYPES = frozenset({"code", "pre"})
QUOTE_TYPES = frozenset({"blockquote", "expandable_blockquote"})
ENTITY_KEYS = (
    "type", "offset", "length", "url", "user", "language", "custom_emoji_id", "unix_time",
    "date_time_format",
)  # fmt: skip


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status + description (+ retry_after for 429)."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def parse_error(description: str) -> ApiError:
    return bad_request(f"can't parse entities: {description}")


# --------------------------------------------------------------------------------------------
# Flood control
# --------------------------------------------------------------------------------------------

Window = tuple[int, float]  # (max calls, period in seconds), sliding window


@dataclass
class FloodLimits:
    """Flood-control settings. Defaults follow Telegram's documented / observed limits.

    * private chats (chat_id > 0), "message" calls (send/edit/delete): token bucket refilled at
      ``private_rate`` per second (about 1 msg/s sustained) holding ``private_burst`` tokens (3:
      Telegram tolerates short bursts of a few messages).
    * groups (chat_id < 0): ``group_windows`` sliding windows, 20 per minute.
    * ``global_windows``: all "message" calls of the bot, 30 per second.
    * drafts + chat actions ("typing" calls): ``typing_windows`` per chat, 20/5 s and 40/30 s.
    * after a 429, the same (kind, chat) keeps answering 429 until retry_after passes
      (``penalty``).
    """

    enabled: bool = True
    private_rate: float = 1.0
    private_burst: int = 3
    group_windows: tuple[Window, ...] = ((20, 60.0),)
    global_windows: tuple[Window, ...] = ((30, 1.0),)
    typing_windows: tuple[Window, ...] = ((20, 5.0), (40, 30.0))
    penalty: bool = True
    min_retry_after: int = 1

    @classmethod
    def off(cls) -> FloodLimits:
        return cls(enabled=False)

    @classmethod
    def strict(cls, calls: int = 1, period: float = 2.0) -> FloodLimits:
        """``calls`` per ``period`` seconds for every chat and kind (tests)."""
        return cls(
            private_rate=calls / period,
            private_burst=calls,
            group_windows=((calls, period),),
            global_windows=(),
            typing_windows=((calls, period),),
        )


@dataclass
class _Bucket:
    tokens: float
    last: float


class FloodController:
    """Decides whether a call passes; raises ``ApiError(429)`` with Telegram's text otherwise."""

    def __init__(self, limits: FloodLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self.clock = clock
        self.count_429 = 0
        self._buckets: dict[int, _Bucket] = {}
        self._windows: dict[tuple[str, int, Window], deque[float]] = {}
        self._penalty_until: dict[tuple[str, int], float] = {}

    def reset(self) -> None:
        self._buckets.clear()
        self._windows.clear()
        self._penalty_until.clear()

    def too_many(self, retry_after: int) -> ApiError:
        self.count_429 += 1
        return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    def check(self, kind: str, chat_id: int) -> None:
        """``kind`` is ``"message"`` or ``"typing"``. Consumes quota when the call passes."""
        lim = self.limits
        if not lim.enabled:
            return
        now = self.clock()
        until = self._penalty_until.get((kind, chat_id), 0.0)
        if until > now:
            raise self.too_many(max(lim.min_retry_after, math.ceil(until - now)))
        windows: list[tuple[str, int, Window]] = []
        bucket: _Bucket | None = None
        if kind == "typing":
            windows += [(kind, chat_id, w) for w in lim.typing_windows]
        else:
            windows += [("global", 0, w) for w in lim.global_windows]
            if chat_id < 0:
                windows += [(kind, chat_id, w) for w in lim.group_windows]
            else:
                bucket = self._buckets.setdefault(chat_id, _Bucket(float(lim.private_burst), now))
                bucket.tokens = min(
                    float(lim.private_burst), bucket.tokens + (now - bucket.last) * lim.private_rate
                )
                bucket.last = now
        wait = 0.0
        if bucket is not None and bucket.tokens < 1.0:
            wait = (1.0 - bucket.tokens) / lim.private_rate if lim.private_rate > 0 else 3600.0
        for key in windows:
            count, period = key[2]
            stamps = self._windows.setdefault(key, deque())
            while stamps and stamps[0] <= now - period:
                stamps.popleft()
            if len(stamps) >= count:
                wait = max(wait, stamps[len(stamps) - count] + period - now)
        if wait > 0:
            retry_after = max(lim.min_retry_after, math.ceil(wait))
            if lim.penalty:
                self._penalty_until[(kind, chat_id)] = now + retry_after
            raise self.too_many(retry_after)
        if bucket is not None:
            bucket.tokens -= 1.0
        for key in windows:
            self._windows[key].append(now)


# --------------------------------------------------------------------------------------------
# Text, entities, parse modes
# --------------------------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _mid_surrogates(text: str) -> set[int]:
    """UTF-16 positions that fall between the two halves of a surrogate pair."""
    mids: set[int] = set()
    pos = 0
    for ch in text:
        if ord(ch) > 0xFFFF:
            mids.add(pos + 1)
            pos += 2
        else:
            pos += 1
    return mids


def _may_contain(outer: str, inner: str) -> bool:
    if outer in CODE_TYPES:
        return False
    if inner in CODE_TYPES:
        return outer in STYLE_TYPES or outer in QUOTE_TYPES or outer == "text_link"
    if outer in QUOTE_TYPES and inner in QUOTE_TYPES:
        return False
    if outer in STYLE_TYPES or inner in STYLE_TYPES:
        return True
    # two link-like entities (url, mention, text_link, custom_emoji, ...) never nest
    return outer in QUOTE_TYPES or inner in QUOTE_TYPES


def validate_entities(text: str, entities: Any) -> list[dict[str, Any]]:
    """Check ``entities`` (already JSON-decoded) against ``text``; return them normalized."""
    if not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    total = utf16_len(text)
    mids = _mid_surrogates(text)
    normalized: list[dict[str, Any]] = []
    for raw in entities:
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            raise bad_request('can\'t parse MessageEntity: Field "type" must be of type String')
        etype, offset, length = raw["type"], raw.get("offset"), raw.get("length")
        if etype not in ENTITY_TYPES:
            raise parse_error(f'Unsupported entity type "{etype}"')
        if not isinstance(offset, int) or not isinstance(length, int):
            raise parse_error(f"Entity {etype} has no valid offset/length")
        if offset < 0 or length <= 0 or offset + length > total:
            raise parse_error(
                f"Entity {etype} at offset {offset} with length {length} is out of the text"
                f" of length {total}"
            )
        if offset in mids or (offset + length) in mids:
            raise parse_error(f"Entity {etype} at offset {offset} splits a surrogate pair")
        if etype == "text_link" and not raw.get("url"):
            raise parse_error("Entity text_link must have a url")
        if etype == "text_mention" and not isinstance(raw.get("user"), dict):
            raise parse_error("Entity text_mention must have a user")
        if etype == "custom_emoji" and not raw.get("custom_emoji_id"):
            raise parse_error("Entity custom_emoji must have a custom_emoji_id")
        normalized.append({k: raw[k] for k in ENTITY_KEYS if raw.get(k) is not None})
    normalized.sort(key=lambda e: (e["offset"], -e["length"]))
    stack: list[dict[str, Any]] = []
    for ent in normalized:
        while stack and stack[-1]["offset"] + stack[-1]["length"] <= ent["offset"]:
            stack.pop()
        end = ent["offset"] + ent["length"]
        for outer in stack:
            if end > outer["offset"] + outer["length"]:
                raise parse_error(
                    f"Entity {ent['type']} at offset {ent['offset']} overlaps entity"
                    f" {outer['type']} at offset {outer['offset']} without being nested in it"
                )
            if not _may_contain(outer["type"], ent["type"]):
                raise parse_error(f"Entity {outer['type']} can't contain entity {ent['type']}")
        stack.append(ent)
    return normalized


def strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim leading/trailing whitespace like Telegram does, moving and clipping entities."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    left = utf16_len(text[: len(text) - len(text.lstrip())])
    new_len = utf16_len(stripped)
    result: list[dict[str, Any]] = []
    for ent in entities:
        start = max(0, ent["offset"] - left)
        end = min(new_len, ent["offset"] + ent["length"] - left)
        if end > start:
            result.append({**ent, "offset": start, "length": end - start})
    return stripped, result


_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "code": "code", "pre": "pre", "a": "text_link", "tg-spoiler": "spoiler", "span": "spoiler",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}  # fmt: skip
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)\s*>")
_ATTR_RE = re.compile(r"([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?")
_CHARREF_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]*);")


def _unescape_attr(value: str) -> str:
    return re.sub(r"&(lt|gt|amp|quot);", lambda m: _HTML_NAMED[m.group(1)], value.strip("\"'"))


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    out: list[str] = []
    pos16 = 0
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, int, int, dict[str, str]]] = []  # tag, start16, byte offset, attrs
    i = 0
    while i < len(source):
        ch = source[i]
        if ch == "&":
            m = _CHARREF_RE.match(source, i)
            name = m.group(1) if m else ""
            if m and name.startswith("#"):
                code = int(name[2:], 16) if name[1:2] in "xX" else int(name[1:])
                if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    raise parse_error(
                        f"Invalid character reference at byte offset {_byte_offset(source, i)}"
                    )
                piece = chr(code)
            elif m and name in _HTML_NAMED:
                piece = _HTML_NAMED[name]
            else:
                raise parse_error(
                    f"Unsupported HTML entity or unescaped '&' at byte offset"
                    f" {_byte_offset(source, i)}"
                )
            out.append(piece)
            pos16 += utf16_len(piece)
            i = m.end()
            continue
        if ch != "<":
            out.append(ch)
            pos16 += 2 if ord(ch) > 0xFFFF else 1
            i += 1
            continue
        boff = _byte_offset(source, i)
        m = _TAG_RE.match(source, i)
        if not m:
            raise parse_error(f"Unsupported start tag at byte offset {boff}")
        closing, tag = m.group(1) == "/", m.group(2).lower()
        if not closing:
            if tag not in _HTML_TAGS:
                raise parse_error(f'Unsupported start tag "{tag}" at byte offset {boff}')
            attrs = {
                a.group(1).lower(): _unescape_attr(a.group(2) or "")
                for a in _ATTR_RE.finditer(m.group(3))
            }
            if tag == "span" and attrs.get("class") != "tg-spoiler":
                raise parse_error(f'Tag "span" must have class "tg-spoiler" at byte offset {boff}')
            stack.append((tag, pos16, boff, attrs))
        else:
            if not stack:
                raise parse_error(f'Unexpected end tag "{tag}" at byte offset {boff}')
            top, start, _, attrs = stack[-1]
            if top != tag:
                raise parse_error(
                    f'Unmatched end tag at byte offset {boff}, expected "</{top}>",'
                    f' found "</{tag}>"'
                )
            stack.pop()
            parent = stack[-1] if stack else None
            lang = attrs.get("class", "")
            if (
                tag == "code"
                and parent
                and parent[0] == "pre"
                and parent[1] == start
                and lang.startswith("language-")
            ):
                parent[3]["language"] = lang[len("language-") :]
            elif pos16 > start:
                ent: dict[str, Any] = {"type": _HTML_TAGS[tag], "offset": start}
                ent["length"] = pos16 - start
                if tag == "a":
                    if not attrs.get("href"):
                        ent = {}
                    else:
                        ent["url"] = attrs["href"]
                elif tag == "pre" and attrs.get("language"):
                    ent["language"] = attrs["language"]
                elif tag == "blockquote" and "expandable" in attrs:
                    ent["type"] = "expandable_blockquote"
                elif tag == "tg-emoji":
                    ent["custom_emoji_id"] = attrs.get("emoji-id", "")
                if ent:
                    entities.append(ent)
        i = m.end()
    if stack:
        raise parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def reserved(ch: str) -> ApiError:
    return parse_error(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")


MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD_TYPES = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough"}
_MD_TYPES |= {"||": "spoiler", "`": "code", "```": "pre", "[": "text_link", ">": "blockquote"}


def parse_markdown(source: str, *, v2: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Strict MarkdownV2 (or legacy Markdown with ``v2=False``) to text + entities."""
    out: list[str] = []
    pos16 = 0
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, int, int, str]] = []  # marker, start16, byte offset, language
    n, i = len(source), 0

    def emit(kind: str, start: int, **extra: Any) -> None:
        if pos16 > start:
            entities.append({"type": _MD_TYPES[kind], "offset": start, "length": pos16 - start})
            entities[-1].update({k: v for k, v in extra.items() if v})

    def add(piece: str) -> None:
        nonlocal pos16
        out.append(piece)
        pos16 += utf16_len(piece)

    while i < n:
        ch = source[i]
        top = stack[-1][0] if stack else ""
        nxt = source[i + 1] if i + 1 < n else ""
        if ch == "\\" and nxt and (ord(nxt) <= 126 if v2 else nxt in "_*`["):
            add(nxt)
            i += 2
            continue
        if top == "```" and source.startswith("```", i):
            _, start, _, lang = stack.pop()
            emit("```", start, language=lang)
            i += 3
            continue
        if top == "`" and ch == "`":
            _, start, _, _ = stack.pop()
            emit("`", start)
            i += 1
            continue
        if top in ("`", "```"):
            add(ch)
            i += 1
            continue
        if top == ">" and ch == "\n":
            if source.startswith("\n>", i):
                add("\n")
                i += 2
                continue
            _, start, _, _ = stack.pop()
            emit(">", start)
            add("\n")
            i += 1
            continue
        markers = MDV2_RESERVED if v2 else "_*[]`"
        if ch not in markers or (not v2 and ch == "]" and top != "["):
            add(ch)
            i += 1
            continue
        boff = _byte_offset(source, i)
        if ch == "`":
            if source.startswith("```", i):
                end_line = source.find("\n", i + 3)
                lang = source[i + 3 : end_line].strip() if end_line != -1 else ""
                stack.append(("```", pos16, boff, lang))
                i = end_line + 1 if end_line != -1 else i + 3
            else:
                stack.append(("`", pos16, boff, ""))
                i += 1
            continue
        if v2 and ch == ">" and (i == 0 or source[i - 1] == "\n") and top != ">":
            if any(s[0] != ">" for s in stack):
                raise reserved(">")
            stack.append((">", pos16, boff, ""))
            i += 1
            continue
        if ch == "[":
            stack.append(("[", pos16, boff, ""))
            i += 1
            continue
        if ch == "]" and top == "[":
            _, start, _, _ = stack.pop()
            if not source.startswith("(", i + 1):
                if v2:
                    raise reserved("]")
                i += 1
                continue
            j, url = i + 2, []
            while j < n and source[j] != ")":
                if source[j] == "\\" and j + 1 < n:
                    j += 1
                url.append(source[j])
                j += 1
            if j >= n:
                raise parse_error(
                    f"Can't find end of a url at byte offset {_byte_offset(source, i + 1)}"
                )
            emit("[", start, url="".join(url))
            i = j + 1
            continue
        marker = ch
        if v2 and ch == "_" and source.startswith("__", i) and top != "_":
            marker = "__"
        if v2 and ch == "|":
            if not source.startswith("||", i):
                raise reserved("|")
            marker = "||"
        if marker not in _MD_TYPES or marker in ("`", "```", "[", ">"):
            raise reserved(ch)
        if top == marker:
            _, start, _, _ = stack.pop()
            emit(marker, start)
        elif any(s[0] == marker for s in stack):
            raise parse_error(f"Can't find end of the entity starting at byte offset {boff}")
        else:
            stack.append((marker, pos16, boff, ""))
        i += len(marker)
    if stack and stack[-1][0] == ">":
        _, start, _, _ = stack.pop()
        emit(">", start)
    if stack:
        raise parse_error(f"Can't find end of the entity starting at byte offset {stack[-1][2]}")
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def prepare_text(
    text: str | None,
    parse_mode: str | None,
    entities: Any,
    *,
    allow_empty: bool = False,
) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's pipeline: parse (parse_mode wins over entities), trim, check empty and length."""
    text = text or ""
    mode = (parse_mode or "").lower()
    if mode == "html":
        text, ents = parse_html(text)
    elif mode == "markdownv2":
        text, ents = parse_markdown(text, v2=True)
    elif mode == "markdown":
        text, ents = parse_markdown(text, v2=False)
    elif mode:
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    elif entities is not None:
        ents = validate_entities(text, entities)
    else:
        ents = []
    text, ents = strip_text(text, ents)
    if not text and not allow_empty:
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT_UTF16:
        raise bad_request("message is too long")
    return text, ents


@dataclass
class Failure:
    """An injected failure for the next call(s) of a method."""

    status: int
    description: str
    retry_after: int | None = None
    after_apply: bool = False  # perform the call, then answer the error (ambiguous result)
    delay: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
