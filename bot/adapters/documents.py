"""Text out of a downloaded file: plain text and code, PDF, DOCX and HTML.

Runs in a worker process only (the job "read_document" of bot/workers/jobs.py): parsing a
hostile file may cost minutes of CPU and gigabytes, which the worker's limits end. The bot's
own process never imports this module, nor pypdf or python-docx.
Everything else, such as archives, images, binaries and scans, becomes `Unreadable`, naming the
type, so the user hears what the file is and why it was not read.
"""

from __future__ import annotations

import io
import logging
import zipfile
from pathlib import PurePosixPath

import charset_normalizer
import docx
from docx.table import Table
from pypdf import PdfReader

from bot.adapters.html_text import html_to_text
from bot.core.documents import DocumentLimits, DocumentText, Unreadable, kind_by_name

log = logging.getLogger(__name__)

# A DOCX is a zip archive: what its members may expand to, checked before anything is inflated
# (a 62 KB archive of 60 MB of XML cost 37 s of CPU and 330 MB). Real documents expand 5-30x.
ZIP_MAX_TOTAL = 64 * 1024 * 1024
ZIP_MAX_RATIO = 100
ZIP_MAX_MEMBERS = 5000

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


def extract(
    name: str, data: bytes, limits: DocumentLimits, mime_type: str | None = None
) -> DocumentText | Unreadable:
    """The text of the file `name` with contents `data`, or why there is none."""
    size = len(data)
    if size > limits.max_bytes:
        return Unreadable(name, kind_by_name(name), "too_big", size)
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
    text = text.removeprefix("\ufeff")
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
    except MemoryError:
        raise  # the worker reports it: the file is too costly, not damaged
    except Exception as exc:  # pypdf raises many kinds on a malformed file: all mean "damaged"
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
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        return Unreadable(name, "damaged ZIP archive", "damaged", size)
    names = {member.filename for member in members}
    kind = next((k for member, k in _ZIP_KINDS if member in names), "ZIP archive")
    if kind != "DOCX":
        return Unreadable(name, kind, "unsupported", size)
    if zip_bomb(members):
        return Unreadable(name, "DOCX that expands too much (a zip bomb?)", "too_complex", size)
    return _docx(name, data)


def zip_bomb(members: list[zipfile.ZipInfo]) -> bool:
    """Whether an archive's members, as their headers declare (zipfile never inflates more than
    declared), expand beyond ZIP_MAX_TOTAL in all, or one of over 1 MB more than ZIP_MAX_RATIO
    times, or are too many."""
    if len(members) > ZIP_MAX_MEMBERS:
        return True
    if sum(member.file_size for member in members) > ZIP_MAX_TOTAL:
        return True
    return any(
        member.file_size > 1024 * 1024
        and member.file_size > ZIP_MAX_RATIO * max(member.compress_size, 1)
        for member in members
    )


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
    except MemoryError:
        raise
    except Exception as exc:  # lxml's XPathEvalError, zipfile's errors...: "damaged"
        log.info("docx unreadable error=%s", type(exc).__name__)
        return Unreadable(name, "damaged DOCX", "damaged", size)
    text = "\n".join(blocks)
    if not text.strip():
        return Unreadable(name, "DOCX without text", "no_text", size)
    return DocumentText(name, "DOCX", text, size)
