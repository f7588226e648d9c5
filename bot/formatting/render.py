"""Markdown (as written by LLMs) -> Telegram text + message entities.

Telegram measures text and entity offsets in UTF-16 code units; a message holds at
most 4096 of them.  Instead of escaping text for a parse mode we emit plain text plus
``MessageEntity``-like records, so ``<``, ``&``, ``_`` and ``*`` in plain text need no
escaping and partial (still streaming) Markdown always yields valid entities.
Pure Python: depends only on ``markdown-it-py``; `__all__` is the public API.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from bot.formatting.render_split import split_source
from bot.formatting.render_walk import EntityBuilder
from bot.formatting.rendered import Entity, Rendered
from bot.formatting.utf16 import utf16_len

__all__ = [
    "Entity",
    "Rendered",
    "render_folded",
    "render_markdown",
    "split_markdown",
    "utf16_len",
]

_SURROGATE = re.compile("[\ud800-\udfff]")


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
        builder = EntityBuilder()
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
