"""The markdown-it token walk behind render_markdown: text plus entities in UTF-16 offsets."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markdown_it.token import Token

from bot.formatting.render_output import EntityWriter
from bot.formatting.render_table import plain_text, table_text

_ALLOWED_URL_PREFIXES = ("http://", "https://", "tg://", "mailto:")
_BULLET = "•"
_HR_LINE = "———"


class EntityBuilder(EntityWriter):
    """Walks markdown-it tokens and accumulates text + entities (UTF-16 offsets)."""

    def __init__(self) -> None:
        super().__init__()
        self.lists: list[list[int]] = []  # per open list: [ordered(0/1), next number]
        self.list_delims: list[str] = []
        self.quote_depth = 0
        self.links: list[
            tuple[str | None, int]
        ] = []  # per open link: (url shown as text, parts index)

    def block_start(self) -> None:
        if self.fresh:
            return
        self.pending_sep = max(self.pending_sep, 1 if self.lists else 2)

    # -- block walk -------------------------------------------------------------------

    def blocks(self, tokens: Sequence[Token]) -> None:
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok.type == "table_open":
                i = self.table(tokens, i)
            else:
                handler = _BLOCKS.get(tok.type)
                if handler is not None:
                    handler(self, tok)
            i += 1

    def paragraph(self, _: Token) -> None:
        self.block_start()

    def heading_open(self, _: Token) -> None:
        self.block_start()
        self.open_inline("bold")

    def heading_close(self, _: Token) -> None:
        self.close_inline("bold")

    def list_close(self, _: Token) -> None:
        self.lists.pop()
        self.list_delims.pop()

    def list_item_close(self, _: Token) -> None:
        self.fresh = False

    def quote_open(self, _: Token) -> None:
        self.block_start()
        self.quote_depth += 1
        if self.quote_depth == 1:
            self.quote_pending = True

    def rule(self, _: Token) -> None:
        self.block_start()
        self.write(_HR_LINE)

    def html_block(self, tok: Token) -> None:  # not produced with html=False; keep literal
        self.block_start()
        self.write(tok.content.rstrip())

    def inline_block(self, tok: Token) -> None:
        self.inline(tok.children or [])

    def list_open(self, tok: Token) -> None:
        self.block_start()
        ordered = tok.type == "ordered_list_open"
        start = 1
        if ordered:
            raw = str(tok.attrGet("start") or 1)
            start = int(raw) if raw.isdigit() else 1
        self.lists.append([int(ordered), start])
        self.list_delims.append(tok.markup if tok.markup in (".", ")") else ".")

    def list_item(self, _: Token | None = None) -> None:
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

    def quote_close(self, _: Token | None = None) -> None:
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
        text, end = table_text(tokens, i)
        self.block_start()
        self.leaf("pre", text)
        return end

    # -- inline walk ------------------------------------------------------------------

    def inline(self, children: Sequence[Token]) -> None:
        for tok in children:
            style, _, edge = tok.type.rpartition("_")
            if style in _STYLES and edge == "open":
                self.open_inline(_STYLES[style])
            elif style in _STYLES and edge == "close":
                self.close_inline(_STYLES[style])
            else:
                _INLINE.get(tok.type, EntityBuilder.literal)(self, tok)

    def text(self, tok: Token) -> None:
        self.write(tok.content)

    literal = text  # html_inline (never with html=False), unknown plugins: keep literal

    def line_break(self, _: Token) -> None:
        self.write("\n")

    def code_inline(self, tok: Token) -> None:
        self.leaf("code", tok.content)

    def image(self, tok: Token) -> None:
        src = str(tok.attrGet("src") or "")
        alt = plain_text(tok.children or []) or tok.content
        self.write(f"{alt} ({src})" if alt and src else alt or src)

    def link_open(self, tok: Token) -> None:
        href = str(tok.attrGet("href") or "")
        self.flush_sep()
        if href.lower().startswith(_ALLOWED_URL_PREFIXES):
            self.links.append((None, len(self.parts)))
            self.open_inline("text_link", href)
        else:  # shown as "text (url)" without an entity
            self.links.append((href, len(self.parts)))

    def link_close(self, _: Token | None = None) -> None:
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


_STYLES = {"strong": "bold", "em": "italic", "s": "strikethrough"}
_Handler = Callable[[EntityBuilder, Token], None]
_BLOCKS: dict[str, _Handler] = {
    "inline": EntityBuilder.inline_block,
    "paragraph_open": EntityBuilder.paragraph,
    "heading_open": EntityBuilder.heading_open,
    "heading_close": EntityBuilder.heading_close,
    "bullet_list_open": EntityBuilder.list_open,
    "ordered_list_open": EntityBuilder.list_open,
    "bullet_list_close": EntityBuilder.list_close,
    "ordered_list_close": EntityBuilder.list_close,
    "list_item_open": EntityBuilder.list_item,
    "list_item_close": EntityBuilder.list_item_close,
    "blockquote_open": EntityBuilder.quote_open,
    "blockquote_close": EntityBuilder.quote_close,
    "fence": EntityBuilder.code_block,
    "code_block": EntityBuilder.code_block,
    "hr": EntityBuilder.rule,
    "html_block": EntityBuilder.html_block,
}
_INLINE: dict[str, _Handler] = {
    "text": EntityBuilder.text,
    "softbreak": EntityBuilder.line_break,
    "hardbreak": EntityBuilder.line_break,
    "code_inline": EntityBuilder.code_inline,
    "link_open": EntityBuilder.link_open,
    "link_close": EntityBuilder.link_close,
    "image": EntityBuilder.image,
}
