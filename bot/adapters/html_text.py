"""The readable text of an HTML file, with the standard library's HTMLParser.

Why not trafilatura: it brings lxml and half a dozen other packages to find the main article of a
web page. A file a user sends is a saved page or an export; dropping scripts, styles and
navigation chrome and keeping the block structure is what the model needs, in 80 lines.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head", "nav", "iframe"})
_BLOCK = frozenset(
    {
        "p", "div", "section", "article", "main", "header", "footer", "aside", "hr",
        "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table",
        "blockquote", "pre", "form", "figure", "figcaption", "title", "address",
    }
)  # fmt: skip
_LINE = frozenset({"br", "li", "dt", "dd", "tr", "option"})  # a new line, not a new paragraph
_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "wbr"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.title: list[str] = []
        self._skip: list[str] = []
        self._in_title = False
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in _SKIP and tag not in _VOID:
            self._skip.append(tag)
        if tag == "pre":
            self._pre += 1
        if tag in _BLOCK:
            self.chunks.append("\n\n")
        elif tag in _LINE:
            self.chunks.append("\n")
        if tag in ("td", "th"):
            self.chunks.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif self._skip and self._skip[-1] == tag:
            self._skip.pop()
        if tag == "pre" and self._pre:
            self._pre -= 1
        if tag in _BLOCK:
            self.chunks.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._skip:
            self.chunks.append(data if self._pre else _SPACES.sub(" ", data.replace("\n", " ")))


def _closed_tail(html: str) -> str:
    """The HTML with every "<" after its last ">" escaped: no tag can start there anyway, and
    HTMLParser looks for the missing ">" again at each of them (800 KB of "</" took 59 s)."""
    last = html.rfind(">")
    tail = html[last + 1 :]
    return html if "<" not in tail else html[: last + 1] + tail.replace("<", "&lt;")


def html_to_text(html: str) -> str:
    """Readable text: the title, then the body's text with one line per block element."""
    reader = _Reader()
    reader.feed(_closed_tail(html))
    reader.close()
    lines = (line.strip() for line in "".join(reader.chunks).split("\n"))
    body = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    title = " ".join("".join(reader.title).split())
    if title and not body.startswith(title):
        return f"{title}\n\n{body}" if body else title
    return body
