"""Documents as the conversation sees them: extracted text, what of it fits, and the turn's text.

Extraction (bytes -> `DocumentText` or `Unreadable`) lives in bot/adapters/documents.py; this
module decides what of the text is used (never silently: `DocumentExcerpt` says what was used of
what) and how the turn and its bounded history form read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from bot.core.budget import estimate_tokens
from bot.core.speakers import speaker_label

UnreadableReason = Literal[
    "too_big", "unsupported", "no_text", "encrypted", "damaged", "too_complex"
]
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # Bot API getFile: "file is too big" above it

SAMPLE_CHARS = 200_000
NO_QUESTION = (
    "(The user sent this file without a question: say in a few sentences what it is, "
    "and offer to help with it.)"
)


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """The bot's own limits: bytes it downloads (at most Telegram's 20 MB) and PDF pages read."""

    max_bytes: int = 10 * 1024 * 1024
    max_pages: int = 50


@dataclass(frozen=True, slots=True)
class DocumentText:
    """The text of a file. `kind`: "text", "PDF", "DOCX" or "HTML"; `pages` read of
    `total_pages` (PDF only); `size` in bytes; `encoding` for plain text."""

    name: str
    kind: str
    text: str
    size: int
    pages: int | None = None
    total_pages: int | None = None
    encoding: str | None = None


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A file whose text cannot be used; `kind` names its type for the user ("ZIP archive",
    "PNG image", "PDF without a text layer (scanned?)")."""

    name: str
    kind: str
    reason: UnreadableReason
    size: int


def kind_by_name(name: str) -> str:
    """A file's type as its name says ("PDF file"), for a file whose bytes were not looked at."""
    suffix = PurePosixPath(name).suffix.lower().lstrip(".")
    return f"{suffix.upper()} file" if suffix else "file"


def refuse_before_download(
    name: str, size: int | None, limits: DocumentLimits
) -> Unreadable | None:
    """`Unreadable("too_big")` when the size Telegram announced is over the bot's limit."""
    if size is not None and size > min(limits.max_bytes, TELEGRAM_DOWNLOAD_LIMIT):
        return Unreadable(name, kind_by_name(name), "too_big", size)
    return None


@dataclass(frozen=True, slots=True)
class DocumentExcerpt:
    """The part of a document given to the model: the first `used_tokens` of `total_tokens`."""

    document: DocumentText
    text: str
    used_tokens: int
    total_tokens: int

    @property
    def pages_cut(self) -> bool:
        doc = self.document
        return doc.pages is not None and doc.total_pages is not None and doc.pages < doc.total_pages

    def usage_note(self) -> str:
        """One line for the model saying what of the file it sees."""
        doc = self.document
        parts = [doc.kind, f"{doc.size} bytes"]
        if doc.total_pages is not None:
            parts.append(f"pages 1-{doc.pages} of {doc.total_pages}")
        if self.used_tokens < self.total_tokens:
            parts.append(f"only the first {self.used_tokens} of ~{self.total_tokens} tokens")
        elif not self.pages_cut:
            parts.append("complete")
        return ", ".join(parts)


def fit_document(document: DocumentText, token_limit: int) -> DocumentExcerpt:
    """The longest prefix of the text within `token_limit` estimated tokens, cut at a line or
    word end where one is near."""
    total = _total_tokens(document.text)
    if total <= token_limit:
        return DocumentExcerpt(document, document.text, total, total)
    text = _prefix_within(document.text, token_limit)
    return DocumentExcerpt(document, text, estimate_tokens(text), total)


def _total_tokens(text: str) -> int:
    if len(text) <= SAMPLE_CHARS:
        return estimate_tokens(text)
    # A long text: scale the estimate of its first SAMPLE_CHARS (counting 10 MB costs seconds).
    return round(estimate_tokens(text[:SAMPLE_CHARS]) * len(text) / SAMPLE_CHARS)


def _prefix_within(text: str, limit: int) -> str:
    # No character costs less than 0.1 token, so a fitting prefix is at most 10 * limit long.
    low, high = 0, min(len(text), limit * 10)
    while low < high:  # the longest prefix whose estimate fits (the estimate grows with length)
        middle = (low + high + 1) // 2
        if estimate_tokens(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    cut = text[:low]
    for separator in ("\n", " "):
        at = cut.rfind(separator)
        if at >= len(cut) * 0.9:
            return cut[:at].rstrip()
    return cut


def document_turn(excerpt: DocumentExcerpt, question: str) -> str:
    """The user message for a document turn: name, what was used, the text, the question."""
    return f"{_file_block(excerpt)}\n\n{question or NO_QUESTION}"


def _file_block(excerpt: DocumentExcerpt) -> str:
    name = speaker_label(excerpt.document.name)
    return f'[File "{name}": {excerpt.usage_note()}]\n<document>\n{excerpt.text}\n</document>'


def document_history(excerpt: DocumentExcerpt, question: str, token_cap: int) -> str:
    """The bounded form kept in history: the same turn with the text cut to `token_cap` tokens,
    saying so, so follow-up questions stay within the budget."""
    return f"{_history_block(excerpt, token_cap)}\n\n{question or NO_QUESTION}"


def _history_block(excerpt: DocumentExcerpt, token_cap: int) -> str:
    if excerpt.used_tokens <= token_cap:
        return _file_block(excerpt)
    kept = _prefix_within(excerpt.text, token_cap)
    name = speaker_label(excerpt.document.name)
    note = (
        f"{excerpt.usage_note()}; history keeps only the first {estimate_tokens(kept)} tokens "
        "of what you read"
    )
    return f'[File "{name}": {note}]\n<document>\n{kept}\n</document>'


# The user-facing text (bot/telegram/texts.py) for each reason a file was not read; each takes
# {name} and {kind}, "doc_too_big" also {size} and {limit} (see `human_size`).
UNREADABLE_TEXT_KEYS: dict[UnreadableReason, str] = {
    "too_big": "doc_too_big",
    "unsupported": "doc_unsupported",
    "no_text": "doc_no_text",
    "encrypted": "doc_encrypted",
    "damaged": "doc_damaged",
    "too_complex": "doc_too_complex",
}


def human_size(size: int) -> str:
    """A byte count for people: 512 B, 3.4 KB, 12.0 MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


Notice = tuple[str, dict[str, object]]  # a text key of bot/telegram/texts.py and its values


@dataclass(frozen=True, slots=True)
class DocumentTurn:
    """Everything a document turn needs: the user message for the model, the bounded form for
    history, and what to tell the user first (what was used of a long file), in order."""

    content: str
    history: str
    notices: tuple[Notice, ...]
    excerpt: DocumentExcerpt


def prepare_document(
    document: DocumentText, question: str, token_limit: int, history_tokens: int
) -> DocumentTurn:
    """The turn for `document` with the caption `question`, its text cut to `token_limit`
    tokens (the user is told), history keeping at most `history_tokens` of it."""
    excerpt = fit_document(document, token_limit)
    notices: list[Notice] = []
    if excerpt.used_tokens < excerpt.total_tokens:
        values: dict[str, object] = {
            "name": document.name,
            "used": excerpt.used_tokens,
            "total": excerpt.total_tokens,
        }
        notices.append(("doc_truncated", values))
    if excerpt.pages_cut:
        pages: dict[str, object] = {
            "name": document.name,
            "pages": document.pages,
            "total": document.total_pages,
        }
        notices.append(("doc_pages_cut", pages))
    return DocumentTurn(
        content=document_turn(excerpt, question),
        history=document_history(excerpt, question, history_tokens),
        notices=tuple(notices),
        excerpt=excerpt,
    )


def prepare_documents(
    documents: Sequence[DocumentText], question: str, token_limit: int, history_tokens: int
) -> DocumentTurn:
    """One turn for several files sent together (an album of files): each gets an equal share
    of `token_limit` and `history_tokens`; the question comes once, after them all."""
    if len(documents) == 1:
        return prepare_document(documents[0], question, token_limit, history_tokens)
    share, history_share = token_limit // len(documents), history_tokens // len(documents)
    turns = [prepare_document(d, "", share, history_share) for d in documents]
    content = "\n\n".join(_file_block(turn.excerpt) for turn in turns)
    history = "\n\n".join(_history_block(turn.excerpt, history_share) for turn in turns)
    ask = question or NO_QUESTION
    return DocumentTurn(
        content=f"{content}\n\n{ask}",
        history=f"{history}\n\n{ask}",
        notices=tuple(notice for turn in turns for notice in turn.notices),
        excerpt=turns[0].excerpt,
    )


def unreadable_notice(unreadable: Unreadable, max_bytes: int) -> Notice:
    """What to tell the user about a file that was not read."""
    values: dict[str, object] = {"name": unreadable.name, "kind": unreadable.kind}
    if unreadable.reason == "too_big":
        values.update(size=human_size(unreadable.size), limit=human_size(max_bytes))
    return UNREADABLE_TEXT_KEYS[unreadable.reason], values
