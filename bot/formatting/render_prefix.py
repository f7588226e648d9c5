"""Rendering a streamed answer again and again without re-parsing its closed paragraphs.

A draft re-renders the answer so far each time it grows. :class:`PrefixRenderer` renders the
head (every block before the last top-level paragraph start) once, keeps it, and renders only
the tail after it; the result is byte-identical to ``render_markdown`` of the whole text
(``tests/unit/test_render_prefix.py`` compares them on many documents and all their prefixes).

A cut is taken only where nothing before it can change with what follows: a blank line, then a
line starting with an ASCII letter (no list, quote, heading, fence, table row or indented code
starts so), where a block-only parse shows every block of the head closed (no open fence), and
never in a text with a link reference definition (``]:``), which may change links before it.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable

from markdown_it import MarkdownIt

from bot.formatting.rendered import Rendered

_CUT = re.compile(r"\n[ \t]*\n(?=[A-Za-z])")
_SEPARATOR = Rendered("\n\n")
_TRIED = 3  # cuts looked at, last first (inside a long open fence, none is closed)


def _block_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False})
    parser.enable(["table", "strikethrough"])
    parser.disable("inline")
    return parser


class PrefixRenderer:
    """``render(md)`` equals ``full(md)``; the heads of the last ``size`` texts are kept."""

    def __init__(self, full: Callable[[str], Rendered], size: int = 600) -> None:
        self._full = full
        self._size = size
        self._heads: OrderedDict[str, Rendered] = OrderedDict()
        self._open: OrderedDict[str, None] = OrderedDict()  # heads found not closed
        self._parser = _block_parser()

    def render(self, md: str) -> Rendered:
        if "]:" in md:
            return self._full(md)
        cut = self._last_cut(md)
        if cut is None:
            return self._full(md)
        head = self._head(md[:cut])
        tail = self._full(md[cut:])
        return head + _SEPARATOR + tail if head.text else tail

    def _last_cut(self, md: str) -> int | None:
        """Where the last paragraph that a closed head precedes starts, if any."""
        for match in list(_CUT.finditer(md))[-_TRIED:][::-1]:
            head = md[: match.end()]
            if head in self._heads or self._closed(head):
                return match.end()
        return None

    def _closed(self, head: str) -> bool:
        if head in self._open:
            return False
        segment = head[self._known_closed(head) :]  # after a closed head, blocks start afresh
        tokens = self._parser.parse(segment + "x")
        last = tokens[-3] if len(tokens) >= 3 else None
        if last is not None and last.type == "paragraph_open" and last.level == 0 and last.map:
            line = last.map[0]
            if line == segment.count("\n"):
                return True
        self._open[head] = None
        if len(self._open) > self._size:
            self._open.popitem(last=False)
        return False

    def _known_closed(self, head: str) -> int:
        """The end of the longest kept head that `head` starts with (of its last cuts), or 0."""
        for match in list(_CUT.finditer(head))[-_TRIED:][::-1]:
            if head[: match.end()] in self._heads:
                return match.end()
        return 0

    def _head(self, head: str) -> Rendered:
        rendered = self._heads.get(head)
        if rendered is not None:
            self._heads.move_to_end(head)
            return rendered
        rendered = self.render(head)
        self._heads[head] = rendered
        if len(self._heads) > self._size:
            self._heads.popitem(last=False)
        return rendered
