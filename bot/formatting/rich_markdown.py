"""Model Markdown made safe for Telegram's rich Markdown (sendRichMessage and rich drafts).

Telegram parses rich Markdown on its side, accepts HTML islands (buttons, media that it fetches by
URL) and pairs any two `$` into a formula. This module keeps what the model meant (headings,
tables, code, math) and removes what would misfire: prices read as math, broken tables collapsing
into one paragraph, unclosed constructs in drafts, live buttons and fetched URLs, raw `<think>`.
"""

from __future__ import annotations

import re

RICH_TEXT_LIMIT = 32768
RICH_BLOCK_LIMIT = 500
TABLE_COLUMN_LIMIT = 20
# Telegram Desktop 7.0.4 crashed on a formula longer than 4096 characters: show those as code.
FORMULA_LIMIT = 4000

# Any indentation: a fence inside a list item is still a fence.
FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})")
_DELIMITER_RE = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_THINK_RE = re.compile(r"<think>.*?(</think>|\Z)", re.DOTALL | re.IGNORECASE)
# HTML islands that create buttons, make Telegram fetch a URL, or belong to drafts only.
_UNSAFE_TAG_RE = re.compile(
    r"<(?=/?\s*(?:tg-button-row|tg-button|img|video|audio|tg-document|tg-map|tg-collage"
    r"|tg-slideshow|tg-thinking|figure|iframe|object|embed|source)\b)",
    re.IGNORECASE,
)
_MEDIA_RE = re.compile(r"!\[([^\]\n]*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"\n]*\")?\s*\)")
_SAFE_MEDIA = ("tg://emoji?", "tg://time?")
_DETAILS_OPEN_RE = re.compile(r"<details\b[^>]*>", re.IGNORECASE)
_DETAILS_CLOSE_RE = re.compile(r"</details\s*>", re.IGNORECASE)
_CODE_SPAN_RE = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_MARKDOWN_PUNCT_RE = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$=])")


def make_safe(markdown: str) -> str:
    """Return `markdown` ready for `InputRichMessage.markdown`.

    Escapes lone `$` (prices) outside code and math, repairs or unformats pipe tables, neutralises
    button/media tags and media images, drops `<think>` blocks, and closes open fences, `$$` and
    `<details>` so a half-written draft (or an answer cut by Stop) still parses. Inside
    `<details>` every `$` is literal: formulas there crash some Telegram Desktop versions.
    """
    text = _THINK_RE.sub("", markdown.replace("\r\n", "\n"))
    lines = text.split("\n")
    out: list[str] = []
    fence: str | None = None
    math_block: list[str] | None = None
    details = 0
    for line in lines:
        if fence is not None:
            out.append(line)
            if closes_fence(line, fence):
                fence = None
            continue
        if math_block is not None:
            math_block.append(line)
            if "$$" in line:
                out.extend(_display_math(math_block))
                math_block = None
            continue
        opened = FENCE_RE.match(line)
        if opened:
            fence = opened.group(1)
            out.append(line)
            continue
        stripped = line.strip()
        math = details <= 0 and not _DETAILS_OPEN_RE.search(line)
        if math and stripped.startswith("$$") and (stripped == "$$" or stripped.count("$$") == 1):
            math_block = [line]
            continue
        details += len(_DETAILS_OPEN_RE.findall(line)) - len(_DETAILS_CLOSE_RE.findall(line))
        out.append(_safe_inline(line, math=math))
    out = _fix_tables(out)
    if fence is not None:
        out.append(fence[0] * len(fence))
    if math_block is not None:
        out.extend(_display_math([*math_block, "$$"]))
    out.extend(["</details>"] * max(0, details))
    return "\n".join(out).strip("\n")


def _display_math(block: list[str]) -> list[str]:
    """A `$$ … $$` block as written, or as a LaTeX code block when too long to render safely."""
    if sum(len(line) + 1 for line in block) <= FORMULA_LIMIT:
        return block
    source = "\n".join(block).strip()
    source = source.removeprefix("$$").removesuffix("$$").strip("\n")
    fence = "````" if "```" in source else "```"
    return [f"{fence}latex", source, fence]


def escape_text(text: str) -> str:
    """Plain text (a note, a user's words) as rich Markdown that shows it literally."""
    return _MARKDOWN_PUNCT_RE.sub(r"\\\1", text)


def escape_html(text: str) -> str:
    """Text for inside an HTML island (`<tg-thinking>`, `<summary>`), where Markdown is not parsed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def closes_fence(line: str, fence: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(fence[0] * len(fence)) and set(stripped) == {fence[0]}


# -- inline: code spans, `$`, tags, media ----------------------------------------------------


def _safe_inline(line: str, *, math: bool) -> str:
    parts: list[str] = []
    last = 0
    for span in _CODE_SPAN_RE.finditer(line):
        parts.append(_safe_prose(line[last : span.start()], math=math))
        parts.append(span.group(0))
        last = span.end()
    parts.append(_safe_prose(line[last:], math=math))
    return "".join(parts)


def _safe_prose(text: str, *, math: bool) -> str:
    text = _UNSAFE_TAG_RE.sub(r"\\<", text)
    text = _MEDIA_RE.sub(_media_to_link, text)
    text = _IMAGE_START_RE.sub(_image_start, text)
    if not math:
        return re.sub(r"(?<!\\)\$", r"\\$", text)
    return _escape_dollars(text)


_IMAGE_START_RE = re.compile(r"(?<!\\)!\[")


def _image_start(match: re.Match[str]) -> str:
    """Any image syntax left (titles, reference images, <...> targets) loses its `!`: Telegram
    must never fetch a URL from model text. Custom emoji and time links stay."""
    rest = match.string[match.end() :]
    close = rest.find("](")
    if close >= 0 and rest[close + 2 :].lstrip("<").startswith(_SAFE_MEDIA):
        return match.group(0)
    return "\\!["


def _media_to_link(match: re.Match[str]) -> str:
    alt, url = match.group(1), match.group(2)
    if url.startswith(_SAFE_MEDIA):
        return match.group(0)
    if not url:
        return escape_text(alt)
    return f"[{alt or escape_text(url)}]({url})"


def _escape_dollars(text: str) -> str:
    """Keep `$$…$$` and `$x$`-style math; escape every other unescaped `$`."""
    if "$" not in text:  # most text (each draft of an answer): no walk over its characters
        return text
    keep: set[int] = set()
    positions = [i for i, ch in enumerate(text) if ch == "$" and not _escaped(text, i)]
    index = 0
    while index < len(positions):
        pos = positions[index]
        double = index + 1 < len(positions) and positions[index + 1] == pos + 1
        if double:
            close = _find_double_close(positions, index + 2)
            if close is not None:
                keep.update(positions[index : close + 2])
                index = close + 2
                continue
            index += 2
            continue
        close = _inline_math_close(text, positions, index)
        if close is not None:
            keep.update((pos, positions[close]))
            index = close + 1
            continue
        index += 1
    lone = sorted(set(positions) - keep)
    if not lone:
        return text
    parts, start = [], 0
    for i in lone:
        parts.append(text[start:i] + "\\$")
        start = i + 1
    return "".join(parts) + text[start:]


def _escaped(text: str, index: int) -> bool:
    slashes = 0
    while index - slashes - 1 >= 0 and text[index - slashes - 1] == "\\":
        slashes += 1
    return slashes % 2 == 1


def _find_double_close(positions: list[int], start: int) -> int | None:
    for i in range(start, len(positions) - 1):
        if positions[i + 1] == positions[i] + 1:
            return i
    return None


def _inline_math_close(text: str, positions: list[int], index: int) -> int | None:
    """Pandoc's rule: `$` opens before a non-space, closes after a non-space, not before a digit."""
    pos = positions[index]
    if pos + 1 >= len(text) or text[pos + 1].isspace() or text[pos + 1] == "$":
        return None
    if pos > 0 and text[pos - 1].isalnum():
        return None  # US$5
    # Only the next `$` may close: "price $5, math $x^2$" must not pair "$5, math $".
    j = index + 1
    if j >= len(positions):
        return None
    end = positions[j]
    if end + 1 < len(text) and text[end + 1] == "$":
        return None
    if text[end - 1].isspace():
        return None
    if end + 1 < len(text) and (text[end + 1].isdigit() or text[end + 1].isalpha()):
        return None
    body = text[pos + 1 : end]
    if re.fullmatch(r"[\d.,]+\s*[kKmMbB]?", body):
        return None  # "$5$" is a price typed twice, not math
    return j


# -- tables ----------------------------------------------------------------------------------


def _cells(row: str) -> list[str]:
    body = row.strip().removeprefix("|")
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    return re.split(r"(?<!\\)\|", body)


def _fix_tables(lines: list[str]) -> list[str]:
    out: list[str] = []
    index = 0
    fence: str | None = None
    while index < len(lines):
        line = lines[index]
        if fence is not None or FENCE_RE.match(line):
            # Code blocks are left exactly as written (a Markdown table shown as an example).
            opened = FENCE_RE.match(line) if fence is None else None
            if opened:
                fence = opened.group(1)
            elif fence is not None and closes_fence(line, fence):
                fence = None
            out.append(line)
            index += 1
            continue
        nxt = lines[index + 1] if index + 1 < len(lines) else ""
        if "|" in line and "|" in nxt and _DELIMITER_RE.match(nxt) and not FENCE_RE.match(line):
            header = line
            prose, header = _split_prose(header)
            if prose:
                out.extend([prose, ""])
            rows = [header]
            end = index + 2
            while end < len(lines) and lines[end].strip() and "|" in lines[end]:
                rows.append(lines[end])
                end += 1
            columns = len(_cells(header))
            if columns == len(_cells(nxt)) and columns <= TABLE_COLUMN_LIMIT:
                if out and out[-1].strip():
                    out.append("")
                out.extend([header, nxt, *rows[1:]])
            else:
                out.extend(_table_as_text(rows))
            index = end
            continue
        out.append(line)
        index += 1
    return out


def _split_prose(header: str) -> tuple[str, str]:
    """'Here it is: | A | B |' -> ('Here it is:', '| A | B |')."""
    stripped = header.strip()
    if stripped.startswith("|") or "|" not in stripped:
        return "", header
    first = stripped.index("|")
    before = stripped[:first].rstrip()
    if before.endswith(":") and stripped.endswith("|"):
        return before, stripped[first:]
    return "", header


def _table_as_text(rows: list[str]) -> list[str]:
    # Each row its own paragraph, pipes literal: readable, never collapsed into one line.
    out: list[str] = []
    for row in rows:
        cells = [c.strip() for c in _cells(row)]
        out.extend([" \\| ".join(cells), ""])
    return out
