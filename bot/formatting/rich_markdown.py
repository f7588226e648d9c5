"""Model Markdown made safe for Telegram's rich Markdown (sendRichMessage and rich drafts).

Telegram parses rich Markdown on its side, accepts HTML islands (buttons, media that it fetches by
URL) and pairs any two `$` into a formula. This module keeps what the model meant (headings,
tables, code, math) and removes what would misfire: prices read as math, broken tables collapsing
into one paragraph, unclosed constructs in drafts, live buttons and fetched URLs, raw `<think>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.formatting.utf16 import utf16_len

RICH_TEXT_LIMIT = 32768
RICH_BLOCK_LIMIT = 500
TABLE_COLUMN_LIMIT = 20
# Telegram Desktop 7.0.4 crashed on a formula longer than 4096 characters: show those as code.
FORMULA_LIMIT = 4000

# Any indentation: a fence inside a list item is still a fence.
_FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})")
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
            if _closes_fence(line, fence):
                fence = None
            continue
        if math_block is not None:
            math_block.append(line)
            if "$$" in line:
                out.extend(_display_math(math_block))
                math_block = None
            continue
        opened = _FENCE_RE.match(line)
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


def _closes_fence(line: str, fence: str) -> bool:
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
    lone = set(positions) - keep
    return "".join("\\$" if i in lone else ch for i, ch in enumerate(text))


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
    body = row.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    return re.split(r"(?<!\\)\|", body)


def _fix_tables(lines: list[str]) -> list[str]:
    out: list[str] = []
    index = 0
    fence: str | None = None
    while index < len(lines):
        line = lines[index]
        if fence is not None or _FENCE_RE.match(line):
            # Code blocks are left exactly as written (a Markdown table shown as an example).
            opened = _FENCE_RE.match(line) if fence is None else None
            if opened:
                fence = opened.group(1)
            elif fence is not None and _closes_fence(line, fence):
                fence = None
            out.append(line)
            index += 1
            continue
        nxt = lines[index + 1] if index + 1 < len(lines) else ""
        if "|" in line and "|" in nxt and _DELIMITER_RE.match(nxt) and not _FENCE_RE.match(line):
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


# -- splitting -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Chunk:
    text: str
    cost: int
    blocks: int


def split_rich(
    markdown: str, max_chars: int = RICH_TEXT_LIMIT, max_blocks: int = RICH_BLOCK_LIMIT
) -> list[str]:
    """Split raw model Markdown into pieces that each fit one rich message, at block boundaries.

    Cost is counted in UTF-16 units plus room for the escapes `make_safe` may add, and blocks
    are over-estimated (every non-blank line outside code counts), so pieces stay under both
    limits after the safety pass. A code block longer than a message is cut at a line and its
    fence re-opened in the next piece.
    """
    budget = max_chars - 64
    pieces: list[str] = []
    current: list[str] = []
    cost = blocks = 0
    for chunk in _chunks(markdown.strip(), budget):
        full = cost + chunk.cost > budget or blocks + chunk.blocks > max_blocks
        # A heading stays with the block it introduces unless that alone would overflow.
        heading = bool(current) and current[-1].startswith("#") and "\n" not in current[-1]
        if current and full and heading and len(current) > 1:
            pieces.append("\n\n".join(current[:-1]))
            current, cost, blocks = current[-1:], _cost(current[-1]) + 2, 1
            full = cost + chunk.cost > budget or blocks + chunk.blocks > max_blocks
        if current and full:
            pieces.append("\n\n".join(current))
            current, cost, blocks = [], 0, 0
        current.append(chunk.text)
        cost += chunk.cost + 2
        blocks += chunk.blocks
    if current:
        pieces.append("\n\n".join(current))
    return pieces


def _cost(text: str) -> int:
    units = utf16_len(text)
    return units + text.count("$") + text.count("<") + text.count("|") + 4


def _chunks(markdown: str, budget: int) -> list[_Chunk]:
    """Blank-line separated blocks; fenced code kept whole (or cut at lines when too long)."""
    chunks: list[_Chunk] = []
    para: list[str] = []
    lines = markdown.split("\n")
    index = 0

    def flush() -> None:
        if para:
            text = "\n".join(para)
            chunks.append(_Chunk(text, _cost(text), sum(1 for p in para if p.strip())))
            para.clear()

    while index < len(lines):
        line = lines[index]
        opened = _FENCE_RE.match(line)
        if opened:
            flush()
            fence = opened.group(1)
            end = index + 1
            while end < len(lines) and not _closes_fence(lines[end], fence):
                end += 1
            block = lines[index : end + 1]
            chunks.extend(_code_chunks(block, fence, budget))
            index = end + 1
            continue
        if not line.strip():
            flush()
        else:
            para.append(line)
        index += 1
    flush()
    return chunks


def _code_chunks(block: list[str], fence: str, budget: int) -> list[_Chunk]:
    text = "\n".join(block)
    if _cost(text) <= budget:
        return [_Chunk(text, _cost(text), 1)]
    opening, body = block[0], block[1:]
    if body and _closes_fence(body[-1], fence):
        body = body[:-1]
    closing = fence[0] * len(fence)
    chunks: list[_Chunk] = []
    part: list[str] = []
    size = _cost(opening + closing) + 2
    for line in body:
        line_cost = _cost(line) + 1
        if part and size + line_cost > budget:
            piece = "\n".join([opening, *part, closing])
            chunks.append(_Chunk(piece, _cost(piece), 1))
            part, size = [], _cost(opening + closing) + 2
        part.append(line[: budget // 2])
        size += line_cost
    piece = "\n".join([opening, *part, closing])
    chunks.append(_Chunk(piece, _cost(piece), 1))
    return chunks
