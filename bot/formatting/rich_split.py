"""Model Markdown cut into pieces that each fit one Telegram rich message, at block boundaries."""

from __future__ import annotations

from dataclasses import dataclass

from bot.formatting.rich_markdown import (
    FENCE_RE,
    RICH_BLOCK_LIMIT,
    RICH_TEXT_LIMIT,
    closes_fence,
)
from bot.formatting.utf16 import utf16_len


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
        opened = FENCE_RE.match(line)
        if opened:
            flush()
            fence = opened.group(1)
            end = index + 1
            while end < len(lines) and not closes_fence(lines[end], fence):
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
    if body and closes_fence(body[-1], fence):
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
