"""What Telegram is sent: text plus message entities, measured in UTF-16 code units."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.formatting.utf16 import utf16_len


@dataclass(frozen=True, slots=True)
class Entity:
    """A Telegram message entity; ``offset``/``length`` are in UTF-16 code units."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Rendered:
    """Text ready for Telegram plus its entities (sorted by offset, longer first)."""

    text: str
    entities: tuple[Entity, ...] = ()

    def utf16_len(self) -> int:
        """Length of :attr:`text` in UTF-16 code units (Telegram's measure)."""
        return utf16_len(self.text)

    def __add__(self, other: Rendered) -> Rendered:
        """Concatenate; ``other``'s entity offsets are shifted past this text."""
        if not isinstance(other, Rendered):
            return NotImplemented
        shift = self.utf16_len()
        moved = tuple(replace(e, offset=e.offset + shift) for e in other.entities)
        return Rendered(self.text + other.text, self.entities + moved)
