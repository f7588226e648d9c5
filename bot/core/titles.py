"""A short conversation title from the question that starts it (for private-chat topics)."""

from __future__ import annotations

import re

TITLE_LIMIT = 48

_QUOTE_PREFIX = re.compile(r"^\(replying to:\n(?:>.*\n)*\)\n")


def topic_title(question: str, limit: int = TITLE_LIMIT) -> str:
    """The question's first words on one line, cut at a word boundary; never empty."""
    text = _QUOTE_PREFIX.sub("", question)
    words = " ".join(text.split()).strip(" .,:;!?-")
    if len(words) <= limit:
        return words or "…"
    cut = words[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" .,:;!?-") + "…"
