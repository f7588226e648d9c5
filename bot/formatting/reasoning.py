"""Separates `<think>...</think>` reasoning from answer text in a stream of content deltas."""

from __future__ import annotations

OPEN = "<think>"
CLOSE = "</think>"


class ThinkSplitter:
    """Feed content deltas; get (answer, reasoning) pieces. Tags may be split across deltas."""

    def __init__(self) -> None:
        self._inside = False
        self._pending = ""

    def feed(self, delta: str) -> tuple[str, str]:
        if not self._pending and "<" not in delta:
            # Every tag and tag prefix starts with "<": the common case, once per streamed token.
            return ("", delta) if self._inside else (delta, "")
        data = self._pending + delta
        self._pending = ""
        answer: list[str] = []
        reasoning: list[str] = []
        while data:
            tag = CLOSE if self._inside else OPEN
            index = data.find(tag)
            if index >= 0:
                (reasoning if self._inside else answer).append(data[:index])
                data = data[index + len(tag) :]
                self._inside = not self._inside
                continue
            keep = _partial_tag_suffix(data, tag)
            (reasoning if self._inside else answer).append(data[: len(data) - keep])
            self._pending = data[len(data) - keep :]
            break
        return "".join(answer), "".join(reasoning)

    def flush(self) -> tuple[str, str]:
        """End of stream: whatever was held back as a possible tag start is plain text."""
        pending, self._pending = self._pending, ""
        return ("", pending) if self._inside else (pending, "")


def _partial_tag_suffix(data: str, tag: str) -> int:
    for size in range(min(len(tag) - 1, len(data)), 0, -1):
        if data.endswith(tag[:size]):
            return size
    return 0


def reasoning_tail(reasoning: str, size: int, *, strip: bool = False) -> str:
    """The last `size` characters of the reasoning shown to the user, "…" first when cut."""
    tail = reasoning[-size:]
    if strip:
        tail = tail.strip()
    return ("…" if len(reasoning) > size else "") + tail
