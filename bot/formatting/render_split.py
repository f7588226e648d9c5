"""Prefix-stable splitting of long Markdown answers into Telegram-sized pieces.

Used by :func:`bot.formatting.render.split_markdown`, which passes the rendered-length
function in (this module does not import the renderer, avoiding an import cycle).

Stability: each cut is chosen by :func:`_choose_cut` from a *window* of the source
(``reopen line + source[start:]`` truncated to ``limit`` UTF-16 units) and depends
only on that window's text.  A piece is only cut from a complete window, i.e. when
the remaining source is longer than the window; so a growing (streamed) document
produces the same leading pieces as the final one.  The single exception is a tail
that is no longer than ``limit`` in the source yet renders longer (wide tables): it
is cut anyway to honour the limit, from the text available.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt

from bot.formatting.utf16 import utf16_len

__all__ = ["MIN_LIMIT", "split_source"]

MIN_LIMIT = 32
"""Smallest supported ``limit`` (a reopened fence line must fit comfortably)."""

RenderedLen = Callable[[str], int]

# Boundary classes, best first.  Each match gives (piece end, next piece start).
_PARAGRAPH = re.compile(r"\r?\n(?:[ \t\r]*\n)+")
_LINE = re.compile(r"\r?\n")
_SENTENCE = re.compile(r"[.!?…][)\]\"'»”’]*([ \t]+)")
_SPACE = re.compile(r"[ \t]+")
_LINE_SPLIT = re.compile(r"\r\n|\r|\n")
_CONTAINER_CHARS = frozenset("> \t")


def _build_block_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False})
    parser.enable(["table", "strikethrough"])
    parser.disable("inline")  # only block structure (fences) is needed
    return parser


_BLOCK_PARSER = _build_block_parser()


def _utf16_prefix(text: str, limit: int) -> str:
    """Longest prefix of ``text`` (whole code points) of at most ``limit`` UTF-16 units."""
    lo, hi = 0, min(len(text), limit)  # each code point is >= 1 unit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if utf16_len(text[:mid]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]


def _quick_fits(md: str, limit: int, rendered_len: RenderedLen) -> bool:
    """Whether ``md`` renders within ``limit``, rendering only when growth is possible.

    Rendering never lengthens text except via tables, tabs, reference links,
    list renumbering and block separators (at most a few units per line).
    """
    size = utf16_len(md)
    if size > limit:
        return False
    growth_possible = "|" in md or "\t" in md or "]:" in md
    if growth_possible or size + 10 * md.count("\n") > limit:
        return rendered_len(md) <= limit
    return True


def split_source(md: str, limit: int, rendered_len: RenderedLen) -> list[str]:
    """Split ``md`` so that every piece satisfies ``rendered_len(piece) <= limit``.

    See :func:`bot.formatting.render.split_markdown` for the contract.
    """
    if limit < MIN_LIMIT:
        raise ValueError(f"limit must be at least {MIN_LIMIT}, got {limit}")
    if _quick_fits(md, limit, rendered_len):
        return [md]
    pieces: list[str] = []
    start = 0
    reopen = ""
    while start < len(md) and not md[start:].isspace():
        body = reopen + md[start:]
        if utf16_len(body) <= limit:
            if _quick_fits(body, limit, rendered_len):
                pieces.append(body)
                break
            window = body  # rare: short source that renders longer (tables)
        else:
            window = _utf16_prefix(body, limit)
        if window[len(reopen) :].isspace():  # a limit's worth of blank space: drop it
            start += len(window) - len(reopen)
            continue
        cut = _choose_cut(window, len(reopen), limit, rendered_len)
        pieces.append(cut.piece)
        start += cut.next_start - len(reopen)
        reopen = cut.reopen
    return pieces


@dataclass(frozen=True, slots=True)
class _Fence:
    """A fenced code block in a window, in window character offsets."""

    opened_at: int  # start of the opening fence line
    closes_at: int | None  # start of the closing fence line; None while unclosed
    reopen: str  # opening line (info string or language) to start the next piece with
    close: str  # closing line to end a piece with (starts with "\n")


@dataclass(frozen=True, slots=True)
class _Cut:
    end: int  # where the piece's source ends, in window offsets
    piece: str  # the piece's Markdown (closing fence line appended if needed)
    next_start: int  # where the next piece starts, in window offsets
    reopen: str  # fence line to prepend to the next piece ("" if none)


def _fences(window: str, limit: int) -> list[_Fence]:
    """Fenced code blocks in ``window`` whose fence lines are short enough to repeat
    (at most a quarter of ``limit``; cuts inside longer ones get no fence lines)."""
    tokens = [t for t in _BLOCK_PARSER.parse(window) if t.type == "fence" and t.map]
    if not tokens:
        return []
    line_starts = [0, *(m.end() for m in _LINE_SPLIT.finditer(window))]
    lines = _LINE_SPLIT.split(window)
    fences: list[_Fence] = []
    for tok in tokens:
        first, end = tok.map or (0, 0)
        markup = tok.markup or "```"
        opening = lines[first]
        at = max(opening.find(markup), 0)
        prefix = "".join(c if c in _CONTAINER_CHARS else " " for c in opening[:at])
        info = opening[at + len(markup) :].strip()
        close = f"\n{prefix}{markup}"
        budget = limit // 4 - utf16_len(f"{prefix}{markup}\n{close}")
        if budget < 0:
            continue
        if utf16_len(info) > budget:  # keep at least the language (first word)
            info = info.split(maxsplit=1)[0] if info else ""
            info = info if utf16_len(info) <= budget else ""
        reopen = f"{prefix}{markup}{info}\n"
        closes_at: int | None = None
        last = end - 1
        if first < last < len(lines):
            tail = lines[last].lstrip("> \t").rstrip()
            if len(tail) >= len(markup) and tail == markup[0] * len(tail):
                closes_at = line_starts[last]
        fences.append(_Fence(line_starts[first], closes_at, reopen, close))
    return fences


@lru_cache(maxsize=512)
def _choose_cut(window: str, base: int, limit: int, rendered_len: RenderedLen) -> _Cut:
    """Pick the cut for the piece starting ``window`` (its first ``base`` chars are a
    reopened fence line).  Pure function of its arguments, hence cacheable: the
    streaming sink re-splits the growing answer every second, and all windows but
    the last repeat."""
    fences = _fences(window, limit)
    content_from = len(window) - len(window[base:].lstrip())  # piece must pass this
    by_class: list[list[tuple[int, int]]] = []
    for pattern in (_PARAGRAPH, _LINE, _SENTENCE, _SPACE):
        group = 1 if pattern is _SENTENCE else 0
        spans = ((m.start(group), m.end(group)) for m in pattern.finditer(window, base))
        by_class.append([(end, nxt) for end, nxt in spans if end > content_from])

    def attempt(end: int, nxt: int) -> _Cut | None:
        cut = _make_cut(window, end, nxt, fences)
        return cut if cut is not None and rendered_len(cut.piece) <= limit else None

    # Best class first, near the limit (second half of the window) ...
    lo = base + (limit - base) // 2
    for candidates in by_class:
        found = _latest_fitting([c for c in candidates if c[0] >= lo], attempt)
        if found is not None:
            return found
    # ... then any boundary at all, latest first ...
    found = _latest_fitting(sorted(c for candidates in by_class for c in candidates), attempt)
    if found is not None:
        return found
    # ... and finally a hard cut (a single word longer than the limit).
    return _hard_cut(window, content_from + 1, fences, attempt)


def _make_cut(window: str, end: int, nxt: int, fences: list[_Fence]) -> _Cut | None:
    """The cut ending the piece at ``end`` (closing an open fence), or None if it
    would separate a fence's last content line from its closing line."""
    for fence in fences:
        if end <= fence.opened_at:
            continue
        if fence.closes_at is not None and end >= fence.closes_at:
            continue
        if fence.closes_at is not None and nxt >= fence.closes_at:
            return None  # would leave an empty reopened block; cut after the fence
        if fence.closes_at is None and not window[nxt:].strip(fence.close[-1] + " \t"):
            return None  # the closing line may be just past the window: same problem
        return _Cut(end, window[:end] + fence.close, nxt, fence.reopen)
    return _Cut(end, window[:end], nxt, "")


def _latest_fitting(
    spans: list[tuple[int, int]], attempt: Callable[[int, int], _Cut | None]
) -> _Cut | None:
    """Cut at the latest span (``spans`` ordered by position) whose piece fits.

    Usually the latest one fits at once (rendering rarely lengthens text); otherwise
    binary search, assuming the rendered length grows with the piece.
    """
    if not spans:
        return None
    found = attempt(*spans[-1])
    lo, hi = 0, len(spans) - 2
    while found is None and lo <= hi:
        mid = (lo + hi) // 2
        cut = attempt(*spans[mid])
        if cut is not None:
            found = cut
            lo = mid + 1
        else:
            hi = mid - 1
    return found


def _hard_cut(
    window: str, first: int, fences: list[_Fence], attempt: Callable[[int, int], _Cut | None]
) -> _Cut:
    """Longest fitting piece ending anywhere (inside a word) from ``first`` on."""
    lo, hi = first, len(window)
    best: _Cut | None = None
    while lo <= hi:
        mid = (lo + hi) // 2
        cut = attempt(mid, mid)
        if cut is not None:
            best = cut
            lo = mid + 1
        else:
            hi = mid - 1
    if best is not None:
        return best
    fallback = min(first, len(window))  # cannot happen for limit >= MIN_LIMIT
    return _make_cut(window, fallback, fallback, fences) or _Cut(
        fallback, window[:fallback], fallback, ""
    )
