"""A short conversation title from the question that starts it (for private-chat topics)."""

from __future__ import annotations

TITLE_LIMIT = 48


def topic_title(question: str, limit: int = TITLE_LIMIT) -> str:
    """The question's first words on one line, cut at a word boundary; never empty.

    `question` is what the user wrote, without the text they replied to."""
    words = " ".join(question.split()).strip(" .,:;!?-")
    if len(words) <= limit:
        return words or "…"
    cut = words[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" .,:;!?-") + "…"
