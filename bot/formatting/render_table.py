"""Plain-text layout of Markdown tables for a Telegram ``pre`` block.

Used by :mod:`bot.formatting.render`; pure Python, no third-party imports.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

__all__ = ["Align", "display_width", "layout_table"]

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
