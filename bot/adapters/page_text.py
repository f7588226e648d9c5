"""A fetched page's readable text (trafilatura for HTML): the job "page_text" of a worker.

Runs in a worker process only: a crafted 2 MB page costs trafilatura seconds of CPU and hundreds
of MB, which the worker's limits end. The bot's own process never imports trafilatura (nor lxml).
"""

from __future__ import annotations

import trafilatura

from bot.core.tools import ToolError

HTML_TYPES = ("text/html", "application/xhtml+xml")


def readable(url: str, content_type: str, charset: str | None, body: bytes) -> str:
    """The page's main text: trafilatura for HTML, the text itself otherwise."""
    if b"\x00" in body[:4096]:
        raise ToolError(f"The page at {url} is binary, not text.")
    if content_type in HTML_TYPES:
        document = trafilatura.bare_extraction(
            body,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
        )
        if document is None:
            return ""
        title = getattr(document, "title", None)
        text = str(getattr(document, "text", "") or "")
        return f"Title: {title}\n\n{text}" if title else text
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")
