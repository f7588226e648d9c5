"""Text plus Telegram entities in UTF-16 offsets, written piece by piece (the output side of
the markdown walk in render_walk)."""

from __future__ import annotations

from bot.formatting.rendered import Entity, Rendered
from bot.formatting.utf16 import utf16_len


class _Open:
    """An entity whose end is not known yet (``skip``: nested in one of its type, not emitted)."""

    __slots__ = ("index", "skip", "start", "type")

    def __init__(self, type_: str, start: int, index: int, skip: bool) -> None:
        self.type = type_
        self.start = start
        self.index = index
        self.skip = skip


class EntityWriter:
    """Accumulates text and entities; entities may open before their end is known."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0  # UTF-16 length of the text so far
        self.trailing_newlines = 0
        self.pending_sep = 0  # newlines owed before the next written text
        self.fresh = False  # right after a list marker: the next block adds no separator
        self.slots: list[list[object]] = []  # [type, offset, length|None, url, language]
        self.inline_stack: list[_Open] = []
        self.quote_slot: int | None = None  # slot index of the outermost blockquote
        self.quote_pending = False  # blockquote opened, starts at the next written text

    # -- low-level output -------------------------------------------------------------

    def write(self, text: str) -> None:
        if not text:
            return
        self.flush_sep()
        self.fresh = False
        self.parts.append(text)
        self.pos += utf16_len(text)
        stripped = text.rstrip("\n")
        if stripped:
            self.trailing_newlines = len(text) - len(stripped)
        else:
            self.trailing_newlines += len(text)

    def flush_sep(self) -> None:
        if self.pending_sep and self.pos:
            need = self.pending_sep - self.trailing_newlines
            if need > 0:
                self.parts.append("\n" * need)
                self.pos += need
                self.trailing_newlines += need
        self.pending_sep = 0
        if self.quote_pending:
            self.quote_pending = False
            self.quote_slot = self.add_slot("blockquote", self.pos)

    def add_slot(
        self, type_: str, start: int, url: str | None = None, lang: str | None = None
    ) -> int:
        self.slots.append([type_, start, None, url, lang])
        return len(self.slots) - 1

    def close_slot(self, index: int) -> None:
        start = self.slots[index][1]
        assert isinstance(start, int)
        self.slots[index][2] = self.pos - start

    def leaf(self, type_: str, text: str, lang: str | None = None) -> None:
        """Write ``text`` as a code/pre entity (entity omitted where it can't nest)."""
        self.flush_sep()
        start = self.pos
        self.write(text)
        if self.pos > start and not any(o.type == "text_link" for o in self.inline_stack):
            self.close_slot(self.add_slot(type_, start, lang=lang))

    # -- inline entities --------------------------------------------------------------

    def open_inline(self, type_: str, url: str | None = None) -> None:
        self.flush_sep()
        skip = any(o.type == type_ for o in self.inline_stack)
        index = -1 if skip else self.add_slot(type_, self.pos, url)
        self.inline_stack.append(_Open(type_, self.pos, index, skip))

    def close_inline(self, type_: str) -> None:
        # markdown-it nests inline tokens properly; be lenient anyway.
        if not self.inline_stack or self.inline_stack[-1].type != type_:
            return
        item = self.inline_stack.pop()
        if not item.skip:
            self.close_slot(item.index)

    # -- result -----------------------------------------------------------------------

    def finish(self) -> Rendered:
        text = "".join(self.parts).rstrip()
        total = utf16_len(text)
        entities: list[Entity] = []
        for type_, offset, length, url, lang in self.slots:
            assert isinstance(type_, str) and isinstance(offset, int)
            if not isinstance(length, int):  # never closed (defensive): close at the end
                length = total - offset
            length = min(offset + length, total) - offset
            if length <= 0:
                continue
            entities.append(
                Entity(
                    type_,
                    offset,
                    length,
                    url=url if isinstance(url, str) else None,
                    language=lang if isinstance(lang, str) else None,
                )
            )
        entities.sort(key=lambda e: (e.offset, -e.length))
        return Rendered(text, tuple(entities))
