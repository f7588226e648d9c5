"""Plain-text layout of Markdown tables for a Telegram ``pre`` block.

Used by :mod:`bot.formatting.render_walk`: ``table_text`` reads markdown-it's table tokens.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from markdown_it.token import Token

__all__ = ["Align", "display_width", "layout_table", "plain_text", "table_text"]

Align = str
"""Column alignment: ``"left"``, ``"right"`` or ``"center"``."""

_ZERO_WIDTH_CATEGORIES = frozenset({"Mn", "Me", "Cf"})


def display_width(text: str) -> int:
    """Approximate monospace width: wide/full-width chars (CJK, most emoji) count 2,
    combining marks, variation selectors and ZWJ count 0, everything else 1."""
    if text.isascii():
        return len(text)
    width = 0
    for ch in text:
        if unicodedata.category(ch) in _ZERO_WIDTH_CATEGORIES:
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _pad(cell: str, width: int, align: Align) -> str:
    gap = width - display_width(cell)
    if gap <= 0:
        return cell
    if align == "right":
        return " " * gap + cell
    if align == "center":
        left = gap // 2
        return " " * left + cell + " " * (gap - left)
    return cell + " " * gap


def layout_table(rows: Sequence[Sequence[str]], aligns: Sequence[Align] = ()) -> str:
    """Lay out ``rows`` (first row is the header) in aligned columns.

    Columns are separated by `` | ``; a ``-+-`` rule follows the header row.
    Missing cells are treated as empty; trailing spaces are stripped per line.
    """
    if not rows:
        return ""
    ncols = max(len(row) for row in rows)
    if ncols == 0:
        return ""
    grid = [[*row, *([""] * (ncols - len(row)))] for row in rows]
    widths = [max(display_width(row[c]) for row in grid) for c in range(ncols)]
    col_align = [aligns[c] if c < len(aligns) else "left" for c in range(ncols)]

    def fmt(row: Sequence[str]) -> str:
        used = len(row)
        while used > 1 and not row[used - 1]:
            used -= 1  # no dangling separators for missing trailing cells
        cells = (_pad(row[c], widths[c], col_align[c]) for c in range(used))
        return " | ".join(cells).rstrip()

    lines = [fmt(grid[0]), "-+-".join("-" * max(w, 1) for w in widths)]
    lines.extend(fmt(row) for row in grid[1:])
    return "\n".join(lines)


def table_text(tokens: Sequence[Token], i: int) -> tuple[str, int]:
    """The GFM table starting at ``tokens[i]`` laid out as text, and the index of its close."""
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
            rows[-1].append(plain_text(tok.children or []))
        j += 1
    return layout_table(rows, aligns), j


def plain_text(children: Sequence[Token]) -> str:
    """Inline tokens reduced to plain text (for table cells and image alt text)."""
    out: list[str] = []
    for tok in children:
        if tok.type in ("text", "code_inline", "html_inline"):
            out.append(tok.content)
        elif tok.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif tok.type == "image":
            out.append(plain_text(tok.children or []) or tok.content)
    return "".join(out)
