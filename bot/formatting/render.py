"""Markdown (as written by LLMs) -> Telegram text + message entities.

Telegram measures text and entity offsets in UTF-16 code units; a message holds at
most 4096 of them.  Instead of escaping text for a parse mode we emit plain text plus
``MessageEntity``-like records, so ``<``, ``&``, ``_`` and ``*`` in plain text need no
escaping and partial (still streaming) Markdown always yields valid entities.

Public API: :class:`Entity`, :class:`Rendered`, :func:`utf16_len`,
:func:`render_markdown`, :func:`split_markdown`, :func:`render_folded`.
Pure Python: depends only on ``markdown-it-py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.formatting.render_split import split_source
from bot.formatting.render_table import Align, layout_table
from bot.formatting.utf16 import utf16_len

__all__ = [
    "Entity",
    "Rendered",
    "render_folded",
    "render_markdown",
    "split_markdown",
    "utf16_len",
]

_ALLOWED_URL_PREFIXES = ("http://", "https://", "tg://", "mailto:")
_SURROGATE = re.compile("[\ud800-\udfff]")
_BULLET = "•"
_HR_LINE = "———"


@dataclass(frozen=True, slots=True)
class Entity:
    """A Telegram message entity; ``offset``/``length`` are in UTF-16 code units."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Rendered:
    """Text ready for Telegram plus its entities (sorted by offset, longer first)."""

    text: str
    entities: tuple[Entity, ...] = ()

    def utf16_len(self) -> int:
        """Length of :attr:`text` in UTF-16 code units (Telegram's measure)."""
        return utf16_len(self.text)

    def __add__(self, other: Rendered) -> Rendered:
        """Concatenate; ``other``'s entity offsets are shifted past this text."""
        if not isinstance(other, Rendered):
            return NotImplemented
        shift = self.utf16_len()
        moved = tuple(replace(e, offset=e.offset + shift) for e in other.entities)
        return Rendered(self.text + other.text, self.entities + moved)


def _build_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False})
    parser.enable(["table", "strikethrough"])
    return parser


_PARSER = _build_parser()
"""Module-level parser: markdown-it keeps no per-document state on the instance."""


def render_markdown(md: str) -> Rendered:
    """Render LLM Markdown (CommonMark + GFM tables/strikethrough) for Telegram.

    Never raises for any input string, including partial Markdown that is still
    being streamed; the returned entities are always valid for Telegram (in range,
    properly nested, nothing inside ``pre``/``code``, no nested blockquotes).
    """
    if not md or md.isspace():
        return Rendered("")
    if not md.isascii() and _SURROGATE.search(md):
        # Pair up surrogates written as two code points; lone ones become U+FFFD.
        md = md.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    try:
        tokens = _PARSER.parse(md)
        builder = _Builder()
        builder.blocks(tokens)
        return builder.finish()
    except Exception:  # pragma: no cover - defensive: never break a reply on rendering
        return Rendered(md.rstrip())


def split_markdown(md: str, limit: int = 4096) -> list[str]:
    """Split ``md`` into Markdown pieces that each render to at most ``limit`` UTF-16 units.

    Cuts prefer a blank line, then a line break, then a sentence end, then a space,
    near the limit; fenced code spanning a cut is closed and reopened with its info
    string.  Prefix-stable: for any prefix of a document, every piece but the last
    is also a piece of the full document's split.  Documents whose source is longer
    than ``limit`` are always split (even when links would render them shorter),
    which is what makes that guarantee hold.  ``limit`` must be at least 32.
    """
    return split_source(md, limit, _rendered_len)


def _rendered_len(md: str) -> int:
    return utf16_len(render_markdown(md).text)


def render_folded(text: str) -> Rendered:
    """Wrap plain ``text`` (e.g. model reasoning) in one ``expandable_blockquote``."""
    text = text.rstrip()
    if not text:
        return Rendered("")
    return Rendered(text, (Entity("expandable_blockquote", 0, utf16_len(text)),))


class _Open:
    """An entity whose end is not known yet (``skip`` = not emitted, see ``_open``)."""

    __slots__ = ("index", "skip", "start", "type")

    def __init__(self, type_: str, start: int, index: int, skip: bool) -> None:
        self.type = type_
        self.start = start
        self.index = index
        self.skip = skip


class _Builder:
    """Walks markdown-it tokens and accumulates text + entities (UTF-16 offsets)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0  # UTF-16 length of the text so far
        self.trailing_newlines = 0
        self.pending_sep = 0  # newlines owed before the next written text
        self.fresh = False  # right after a list marker: the next block adds no separator
        self.slots: list[list[object]] = []  # [type, offset, length|None, url, language]
        self.inline_stack: list[_Open] = []
        self.lists: list[list[int]] = []  # per open list: [ordered(0/1), next number]
        self.list_delims: list[str] = []
        self.quote_depth = 0
        self.quote_slot: int | None = None  # slot index of the outermost blockquote
        self.quote_pending = False  # blockquote opened, starts at the next written text
        self.links: list[
            tuple[str | None, int]
        ] = []  # per open link: (url shown as text, parts index)

    # -- low-level output -------------------------------------------------------------

    def write(self, text: str) -> None:
        if not text:
            return
        self.flush_sep()
        self.fresh = False
        self.parts.append(text)
        self.pos += utf16_len(text)
        stripped = text.rstrip("\n")
        if stripped:
            self.trailing_newlines = len(text) - len(stripped)
        else:
            self.trailing_newlines += len(text)

    def flush_sep(self) -> None:
        if self.pending_sep and self.pos:
            need = self.pending_sep - self.trailing_newlines
            if need > 0:
                self.parts.append("\n" * need)
                self.pos += need
                self.trailing_newlines += need
        self.pending_sep = 0
        if self.quote_pending:
            self.quote_pending = False
            self.quote_slot = self.add_slot("blockquote", self.pos)

    def block_start(self) -> None:
        if self.fresh:
            return
        self.pending_sep = max(self.pending_sep, 1 if self.lists else 2)

    def add_slot(
        self, type_: str, start: int, url: str | None = None, lang: str | None = None
    ) -> int:
        self.slots.append([type_, start, None, url, lang])
        return len(self.slots) - 1

    def close_slot(self, index: int) -> None:
        start = self.slots[index][1]
        assert isinstance(start, int)
        self.slots[index][2] = self.pos - start

    def leaf(self, type_: str, text: str, lang: str | None = None) -> None:
        """Write ``text`` as a code/pre entity (entity omitted where it can't nest)."""
        self.flush_sep()
        start = self.pos
        self.write(text)
        if self.pos > start and not any(o.type == "text_link" for o in self.inline_stack):
            self.close_slot(self.add_slot(type_, start, lang=lang))

    # -- inline entities --------------------------------------------------------------

    def open_inline(self, type_: str, url: str | None = None) -> None:
        self.flush_sep()
        skip = any(o.type == type_ for o in self.inline_stack)
        index = -1 if skip else self.add_slot(type_, self.pos, url)
        self.inline_stack.append(_Open(type_, self.pos, index, skip))

    def close_inline(self, type_: str) -> None:
        # markdown-it nests inline tokens properly; be lenient anyway.
        if not self.inline_stack or self.inline_stack[-1].type != type_:
            return
        item = self.inline_stack.pop()
        if not item.skip:
            self.close_slot(item.index)

    # -- block walk -------------------------------------------------------------------

    def blocks(self, tokens: Sequence[Token]) -> None:
        i = 0
        n = len(tokens)
        while i < n:
            tok = tokens[i]
            kind = tok.type
            if kind == "inline":
                self.inline(tok.children or [])
            elif kind == "paragraph_open":
                self.block_start()
            elif kind == "heading_open":
                self.block_start()
                self.open_inline("bold")
            elif kind == "heading_close":
                self.close_inline("bold")
            elif kind in ("bullet_list_open", "ordered_list_open"):
                self.list_open(tok)
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
                self.list_delims.pop()
            elif kind == "list_item_open":
                self.list_item()
            elif kind == "list_item_close":
                self.fresh = False
            elif kind == "blockquote_open":
                self.block_start()
                self.quote_depth += 1
                if self.quote_depth == 1:
                    self.quote_pending = True
            elif kind == "blockquote_close":
                self.quote_close()
            elif kind in ("fence", "code_block"):
                self.code_block(tok)
            elif kind == "hr":
                self.block_start()
                self.write(_HR_LINE)
            elif kind == "table_open":
                i = self.table(tokens, i)
            elif kind == "html_block":  # not produced with html=False; keep literal
                self.block_start()
                self.write(tok.content.rstrip())
            i += 1

    def list_open(self, tok: Token) -> None:
        self.block_start()
        ordered = tok.type == "ordered_list_open"
        start = 1
        if ordered:
            raw = str(tok.attrGet("start") or 1)
            start = int(raw) if raw.isdigit() else 1
        self.lists.append([int(ordered), start])
        self.list_delims.append(tok.markup if tok.markup in (".", ")") else ".")

    def list_item(self) -> None:
        self.fresh = False
        self.block_start()
        if not self.lists:  # pragma: no cover - markdown-it always opens the list first
            return
        state = self.lists[-1]
        indent = "  " * (len(self.lists) - 1)
        if state[0]:
            marker = f"{state[1]}{self.list_delims[-1]} "
            state[1] += 1
        else:
            marker = f"{_BULLET} "
        self.write(indent + marker)
        self.fresh = True

    def quote_close(self) -> None:
        self.quote_depth -= 1
        if self.quote_depth > 0:
            return
        self.quote_pending = False
        if self.quote_slot is not None:
            self.close_slot(self.quote_slot)
            self.quote_slot = None

    def code_block(self, tok: Token) -> None:
        self.block_start()
        lang = None
        if tok.type == "fence":
            words = tok.info.split()
            lang = words[0] if words else None
        self.leaf("pre", tok.content.rstrip(), lang)

    def table(self, tokens: Sequence[Token], i: int) -> int:
        """Render the table starting at ``tokens[i]``; return the index of its close."""
        rows: list[list[str]] = []
        aligns: list[Align] = []
        in_header = False
        j = i + 1
        while j < len(tokens) and tokens[j].type != "table_close":
            tok = tokens[j]
            if tok.type == "thead_open":
                in_header = True
            elif tok.type == "thead_close":
                in_header = False
            elif tok.type == "tr_open":
                rows.append([])
            elif tok.type in ("th_open", "td_open") and in_header:
                style = str(tok.attrGet("style") or "")
                aligns.append(style.removeprefix("text-align:") or "left")
            elif tok.type == "inline" and rows:
                rows[-1].append(_plain_text(tok.children or []))
            j += 1
        self.block_start()
        self.leaf("pre", layout_table(rows, aligns))
        return j

    # -- inline walk ------------------------------------------------------------------

    def inline(self, children: Sequence[Token]) -> None:
        for tok in children:
            kind = tok.type
            if kind == "text":
                self.write(tok.content)
            elif kind in ("softbreak", "hardbreak"):
                self.write("\n")
            elif kind == "code_inline":
                self.leaf("code", tok.content)
            elif kind == "strong_open":
                self.open_inline("bold")
            elif kind == "strong_close":
                self.close_inline("bold")
            elif kind == "em_open":
                self.open_inline("italic")
            elif kind == "em_close":
                self.close_inline("italic")
            elif kind == "s_open":
                self.open_inline("strikethrough")
            elif kind == "s_close":
                self.close_inline("strikethrough")
            elif kind == "link_open":
                self.link_open(tok)
            elif kind == "link_close":
                self.link_close()
            elif kind == "image":
                src = str(tok.attrGet("src") or "")
                alt = _plain_text(tok.children or []) or tok.content
                self.write(f"{alt} ({src})" if alt and src else alt or src)
            else:  # html_inline (never with html=False), unknown plugins: keep literal
                self.write(tok.content)

    def link_open(self, tok: Token) -> None:
        href = str(tok.attrGet("href") or "")
        self.flush_sep()
        if href.lower().startswith(_ALLOWED_URL_PREFIXES):
            self.links.append((None, len(self.parts)))
            self.open_inline("text_link", href)
        else:  # shown as "text (url)" without an entity
            self.links.append((href, len(self.parts)))

    def link_close(self) -> None:
        if not self.links:  # pragma: no cover - markdown-it balances link tokens
            return
        shown_url, first_part = self.links.pop()
        if shown_url is None:
            top = self.inline_stack[-1] if self.inline_stack else None
            if top is not None and top.type == "text_link" and self.pos == top.start:
                self.write(str(self.slots[top.index][3]))  # "[](url)": show the url
            self.close_inline("text_link")
            return
        label = "".join(self.parts[first_part:])
        if not label:
            self.write(shown_url)
        elif shown_url and label != shown_url:
            self.write(f" ({shown_url})")

    # -- result -----------------------------------------------------------------------

    def finish(self) -> Rendered:
        text = "".join(self.parts).rstrip()
        total = utf16_len(text)
        entities: list[Entity] = []
        for type_, offset, length, url, lang in self.slots:
            assert isinstance(type_, str) and isinstance(offset, int)
            if not isinstance(length, int):  # never closed (defensive): close at the end
                length = total - offset
            length = min(offset + length, total) - offset
            if length <= 0:
                continue
            entities.append(
                Entity(
                    type_,
                    offset,
                    length,
                    url=url if isinstance(url, str) else None,
                    language=lang if isinstance(lang, str) else None,
                )
            )
        entities.sort(key=lambda e: (e.offset, -e.length))
        return Rendered(text, tuple(entities))


def _plain_text(children: Sequence[Token]) -> str:
    """Inline tokens reduced to plain text (for table cells and image alt text)."""
    out: list[str] = []
    for tok in children:
        if tok.type in ("text", "code_inline", "html_inline"):
            out.append(tok.content)
        elif tok.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif tok.type == "image":
            out.append(_plain_text(tok.children or []) or tok.content)
    return "".join(out)
