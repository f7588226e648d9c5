"""A mapping that forgets its oldest entries: per-chat memory that cannot grow with every chat."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """At most `size` entries; setting one makes it the newest, the oldest goes first."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __setitem__(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def get(self, key: K) -> V | None:
        """The value of `key`, or None."""
        return self._items.get(key)

    def pop(self, key: K) -> V | None:
        """Remove `key`; its value, or None."""
        return self._items.pop(key, None)

    def add(self, key: K) -> None:
        """Use as a set: remember `key` (its value is None)."""
        self[key] = None  # type: ignore[assignment]
