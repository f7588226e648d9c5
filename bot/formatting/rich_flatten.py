"""A received rich message (pasted formatted text) as Markdown-ish text for the model.

Works on the JSON shape of Bot API `RichMessage.blocks` (plain dicts), so it needs no aiogram.
"""

from __future__ import annotations

from typing import Any

Node = Any


def flatten_rich(blocks: list[dict[str, Any]]) -> str:
    """The text of rich blocks: headings, lists, tables, code and math kept readable."""
    return "\n\n".join(part for block in blocks if (part := _block(block).strip())).strip()


def rich_text(node: Node) -> str:
    """The plain text of a RichText value (a string, a list, or a typed node)."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return "".join(rich_text(item) for item in node)
    if isinstance(node, dict):
        kind = node.get("type")
        if kind == "mathematical_expression":
            return f"${node.get('expression', '')}$"
        if kind == "code":
            return f"`{rich_text(node.get('text'))}`"
        if "text" in node:
            return rich_text(node["text"])
        for key in ("expression", "alternative_text", "emoji", "label"):
            if isinstance(node.get(key), str):
                return str(node[key])
    return ""


def _blocks(blocks: Node) -> str:
    if not isinstance(blocks, list):
        return ""
    return flatten_rich([b for b in blocks if isinstance(b, dict)])


def _block(block: dict[str, Any]) -> str:
    kind = block.get("type", "")
    text = rich_text(block.get("text"))
    if kind == "heading":
        return "#" * min(6, max(1, int(block.get("size") or 1))) + " " + text
    if kind == "pre":
        return f"```{block.get('language') or ''}\n{text}\n```"
    if kind == "mathematical_expression":
        return f"$$\n{block.get('expression', '')}\n$$"
    if kind == "divider":
        return "---"
    if kind == "list":
        return "\n".join(_item(item) for item in block.get("items") or [])
    if kind == "table":
        return _table(block.get("cells") or [])
    if kind == "details":
        return f"{rich_text(block.get('summary'))}\n\n{_blocks(block.get('blocks'))}"
    if kind in ("blockquote", "expandable_blockquote", "pull_quote"):
        inner = _blocks(block.get("blocks")) or text
        return "\n".join("> " + line for line in inner.splitlines())
    if "blocks" in block:
        return _blocks(block["blocks"])
    if text:
        return text
    caption = block.get("caption")
    caption_text = rich_text(caption.get("text")) if isinstance(caption, dict) else ""
    return f"[{kind}] {caption_text}".strip() if kind else caption_text


def _item(item: dict[str, Any]) -> str:
    mark = ""
    if item.get("has_checkbox"):
        mark = "[x] " if item.get("is_checked") else "[ ] "
    label = str(item.get("label") or "-")
    body = _blocks(item.get("blocks")).replace("\n", "\n  ")
    return f"{label} {mark}{body}"


def _table(rows: list[list[dict[str, Any]]]) -> str:
    lines = ["| " + " | ".join(rich_text(cell.get("text")) for cell in row) + " |" for row in rows]
    if len(lines) > 1:
        width = len(rows[0])
        lines.insert(1, "|" + "---|" * width)
    return "\n".join(lines)
