"""Rich messages for the fake Bot API (10.1-10.3): validation, error texts, what clients render.

Error descriptions are the ones reported in the wild (see shared/telegram-rich-messages.md §4):
`RICH_MESSAGE_TEXT_TOO_LONG`, `RICH_MESSAGE_EMAIL_INVALID`, `RICH_MESSAGE_CONTENT_REQUIRED`. The
real parser is Telegram's and cannot be run locally; this one checks what tests need to see.
"""

from __future__ import annotations

import re
from typing import Any

from tests.doubles.fake_telegram_limits import ApiError, bad_request

RICH_TEXT_LIMIT = 32768
RICH_BLOCK_LIMIT = 500
# E-mail-like tokens that Telegram's entity detection rejects (openclaw #96363: "openai:user@x.com").
_EMAIL_LIKE_RE = re.compile(r"\b\w+:[\w.+-]+@[\w-]+\.[\w.]+")
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_CODE_SPAN_RE = re.compile(r"(`+).+?\1")
# HTML islands Telegram turns into live buttons or media fetched by URL (unless backslash-escaped).
_LIVE_TAG_RE = re.compile(
    r"(?<!\\)<(tg-button-row|tg-button|img|video|audio|tg-document|tg-map|tg-thinking)\b",
    re.IGNORECASE,
)
_LIVE_MEDIA_RE = re.compile(r"(?<!\\)!\[[^\]]*\]\((?!tg://(?:emoji|time)\?)[^)]+\)")


def prepare_rich(value: Any, *, draft: bool) -> tuple[str, bool]:
    """Validate an InputRichMessage; return (markdown or html source, skip_entity_detection)."""
    if not isinstance(value, dict):
        raise bad_request('can\'t parse rich message: field "rich_message" must be an Object')
    given = [k for k in ("html", "markdown", "blocks") if value.get(k) not in (None, "", [])]
    if not given:
        raise bad_request("RICH_MESSAGE_CONTENT_REQUIRED")
    if len(given) > 1:
        raise bad_request(
            "can't parse rich message: exactly one of html, markdown, blocks expected"
        )
    if given[0] == "blocks":
        raise bad_request("can't parse rich message: blocks are not supported by this fake")
    source = str(value[given[0]])
    if len(source.encode("utf-16-le")) // 2 > RICH_TEXT_LIMIT:
        raise bad_request("RICH_MESSAGE_TEXT_TOO_LONG")
    skip = value.get("skip_entity_detection") is True
    prose = _outside_code(source)
    if not skip and _EMAIL_LIKE_RE.search(prose):
        raise bad_request("RICH_MESSAGE_EMAIL_INVALID")
    if not draft and re.search(r"(?<!\\)<tg-thinking", prose, re.IGNORECASE):
        raise bad_request("can't parse rich message: tg-thinking is allowed only in drafts")
    if len(rich_blocks(source)) > RICH_BLOCK_LIMIT:
        raise bad_request("RICH_MESSAGE_TOO_MANY_BLOCKS")
    return source, skip


def live_tags(markdown: str) -> list[str]:
    """Buttons, media and draft-only tags the real parser would honour in this Markdown."""
    prose = _outside_code(markdown)
    return [m.group(0) for m in _LIVE_TAG_RE.finditer(prose)] + _LIVE_MEDIA_RE.findall(prose)


def _outside_code(markdown: str) -> str:
    kept: list[str] = []
    fence: str | None = None
    for line in markdown.split("\n"):
        opened = _FENCE_RE.match(line)
        if fence is None and opened:
            fence = opened.group(1)
            continue
        if fence is not None:
            if line.strip().startswith(fence) and set(line.strip()) == {fence[0]}:
                fence = None
            continue
        kept.append(_CODE_SPAN_RE.sub("", line))
    return "\n".join(kept)


def rich_blocks(markdown: str) -> list[dict[str, Any]]:
    """A coarse RichMessage for received messages: code blocks as `pre`, the rest paragraphs."""
    blocks: list[dict[str, Any]] = []
    para: list[str] = []
    code: list[str] | None = None
    language = ""
    fence = ""

    def flush() -> None:
        if para:
            blocks.append({"type": "paragraph", "text": "\n".join(para)})
            para.clear()

    for line in markdown.split("\n"):
        if code is not None:
            if line.strip().startswith(fence) and set(line.strip()) == {fence[0]}:
                pre: dict[str, Any] = {"type": "pre", "text": "\n".join(code)}
                if language:
                    pre["language"] = language
                blocks.append(pre)
                code = None
            else:
                code.append(line)
            continue
        opened = _FENCE_RE.match(line)
        if opened:
            flush()
            fence, language, code = opened.group(1), opened.group(2).strip(), []
        elif line.strip():
            para.append(line)
        else:
            flush()
    flush()
    if code is not None:
        blocks.append({"type": "pre", "text": "\n".join(code)})
    return blocks


def no_rich_in_old_server(params: dict[str, Any]) -> ApiError | None:
    """An editMessageText with only `rich_message` on a server before 10.1: the field is unknown."""
    if params.get("rich_message") is not None and params.get("text") in (None, ""):
        return bad_request("message text is empty")
    return None
