"""Text out of a downloaded file: plain text and code, PDF, DOCX and HTML.

CPU-bound (a PDF of 50 pages takes a second or so): call it through `asyncio.to_thread`.
Everything else, such as archives, images, binaries and scans, becomes `Unreadable`, naming the
type, so the user hears what the file is and why it was not read.
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

import charset_normalizer
import docx
from docx.table import Table
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from bot.adapters.html_text import html_to_text
from bot.core.documents import DocumentText, Unreadable

log = logging.getLogger(__name__)

TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # Bot API getFile: "file is too big" above it

# Leading bytes of types a user may send that hold no text we read.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"BM", "BMP image"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"\x1f\x8b", "gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"BZh", "bzip2 archive"),
    (b"\xfd7zXZ\x00", "XZ archive"),
    (b"(\xb5/\xfd", "Zstandard archive"),
    (b"\x7fELF", "executable (ELF)"),
    (b"MZ", "Windows executable"),
    (b"\xcf\xfa\xed\xfe", "executable (Mach-O)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old Office document (.doc/.xls/.ppt)"),
    (b"OggS", "Ogg audio"),
    (b"ID3", "MP3 audio"),
    (b"fLaC", "FLAC audio"),
    (b"\x1aE\xdf\xa3", "Matroska/WebM video"),
    (b"SQLite format 3\x00", "SQLite database"),
)
_ZIP_KINDS = (
    ("word/document.xml", "DOCX"),
    ("xl/workbook.xml", "Excel workbook (XLSX)"),
    ("ppt/presentation.xml", "PowerPoint presentation (PPTX)"),
    ("META-INF/manifest.xml", "OpenDocument or EPUB file"),
)
_HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
_SNIFF = 8192


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """The bot's own limits: bytes it downloads (at most Telegram's 20 MB) and PDF pages read."""

    max_bytes: int = 10 * 1024 * 1024
    max_pages: int = 50


def refuse_before_download(
    name: str, size: int | None, limits: DocumentLimits
) -> Unreadable | None:
    """`Unreadable("too_big")` when the size Telegram announced is over the bot's limit."""
    if size is not None and size > min(limits.max_bytes, TELEGRAM_DOWNLOAD_LIMIT):
        return Unreadable(name, _kind_by_name(name), "too_big", size)
    return None


def extract(
    name: str, data: bytes, limits: DocumentLimits, mime_type: str | None = None
) -> DocumentText | Unreadable:
    """The text of the file `name` with contents `data`, or why there is none."""
    size = len(data)
    if size > limits.max_bytes:
        return Unreadable(name, _kind_by_name(name), "too_big", size)
    head = data[:_SNIFF]
    if head.lstrip()[:5] == b"%PDF-" or b"%PDF-" in data[:1024]:
        return _pdf(name, data, limits)
    if head.startswith(b"PK\x03\x04"):
        return _zip(name, data)
    if head[4:8] in (b"ftyp",):
        return Unreadable(name, "MP4/MOV video or HEIC image", "unsupported", size)
    if head.startswith(b"RIFF") and head[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        kinds = {b"WEBP": "WebP image", b"WAVE": "WAV audio", b"AVI ": "AVI video"}
        return Unreadable(name, kinds[head[8:12]], "unsupported", size)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return Unreadable(name, kind, "unsupported", size)
    if len(head) > 262 and head[257:262] == b"ustar":
        return Unreadable(name, "tar archive", "unsupported", size)
    return _text(name, data, mime_type)


def _kind_by_name(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower().lstrip(".")
    return f"{suffix.upper()} file" if suffix else "file"


def _text(name: str, data: bytes, mime_type: str | None) -> DocumentText | Unreadable:
    decoded = _decode(data)
    if decoded is None:
        return Unreadable(name, "binary file", "unsupported", len(data))
    text, encoding = decoded
    suffix = PurePosixPath(name).suffix.lower()
    sniff = text[:512].lstrip().lower()
    if (
        suffix in _HTML_SUFFIXES
        or (mime_type or "").startswith("text/html")
        or sniff.startswith(("<!doctype html", "<html"))
    ):
        text = html_to_text(text)
        if not text.strip():
            return Unreadable(name, "HTML page without text", "no_text", len(data))
        return DocumentText(name, "HTML", text, len(data), encoding=encoding)
    if not text.strip():
        return Unreadable(name, "empty text file", "no_text", len(data))
    return DocumentText(name, "text", text, len(data), encoding=encoding)


def _decode(data: bytes) -> tuple[str, str] | None:
    """The text and its encoding; None for binary data."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif b"\x00" in data[:_SNIFF]:
        return None
    else:
        try:
            return data.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError:
            best = charset_normalizer.from_bytes(data[: 1024 * 1024]).best()
            if best is None:
                return None
            encoding = best.encoding
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    if text.startswith("\ufeff"):
        text = text[1:]
    controls = sum(1 for ch in text[:_SNIFF] if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    return None if controls > len(text[:_SNIFF]) * 0.05 else (text, encoding)


def _pdf(name: str, data: bytes, limits: DocumentLimits) -> DocumentText | Unreadable:
    size = len(data)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return Unreadable(name, "password-protected PDF", "encrypted", size)
        total = len(reader.pages)
        pages = min(total, limits.max_pages)
        texts = [reader.pages[index].extract_text() for index in range(pages)]
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        log.info("pdf unreadable error=%s", type(exc).__name__)
        return Unreadable(name, "damaged PDF", "damaged", size)
    text = "\n\n".join(t.strip() for t in texts if t and t.strip())
    if not text:
        return Unreadable(name, "PDF without a text layer (a scan?)", "no_text", size)
    return DocumentText(name, "PDF", text, size, pages=pages, total_pages=total)


def _zip(name: str, data: bytes) -> DocumentText | Unreadable:
    size = len(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return Unreadable(name, "damaged ZIP archive", "damaged", size)
    kind = next((k for member, k in _ZIP_KINDS if member in names), "ZIP archive")
    if kind != "DOCX":
        return Unreadable(name, kind, "unsupported", size)
    return _docx(name, data)


def _docx(name: str, data: bytes) -> DocumentText | Unreadable:
    size = len(data)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                rows = (" | ".join(cell.text.strip() for cell in row.cells) for row in block.rows)
                blocks.extend(rows)
            elif block.text.strip():
                blocks.append(block.text)
    except (ValueError, KeyError, zipfile.BadZipFile) as exc:
        log.info("docx unreadable error=%s", type(exc).__name__)
        return Unreadable(name, "damaged DOCX", "damaged", size)
    text = "\n".join(blocks)
    if not text.strip():
        return Unreadable(name, "DOCX without text", "no_text", size)
    return DocumentText(name, "DOCX", text, size)
