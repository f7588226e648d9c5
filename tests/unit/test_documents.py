"""Document text extraction (files made here) and the token-budget excerpt."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest
from pypdf import PdfWriter

from bot.adapters.documents import extract, zip_bomb
from bot.adapters.html_text import html_to_text
from bot.core.budget import estimate_tokens
from bot.core.documents import (
    UNREADABLE_TEXT_KEYS,
    DocumentLimits,
    DocumentText,
    Unreadable,
    document_history,
    document_turn,
    fit_document,
    human_size,
    prepare_document,
    refuse_before_download,
    unreadable_notice,
)
from bot.telegram.texts import t
from tests.doubles.hostile_files import docx_bomb, end_tag_flood, pdf_of

LIMITS = DocumentLimits()
RUSSIAN = (
    "Съешь же ещё этих мягких французских булок, да выпей чаю. "
    "Широкая электрификация южных губерний даст мощный толчок подъёму сельского хозяйства. "
    "Уникальная фраза: фиолетовый дирижабль над Вологдой.\n"
) * 5


def minimal_pdf(pages: list[str]) -> bytes:
    """A valid PDF with one line of Helvetica text per page, written by hand."""
    count = len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(count))
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for index, line in enumerate(pages):
        stream = f"BT /F1 12 Tf 72 720 Td ({line}) Tj ET".encode("latin-1")
        bodies.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
            f"<< /Font << /F1 3 0 R >> >> /Contents {5 + 2 * index} 0 R >>".encode()
        )
        bodies.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    return pdf_of(bodies)


def blank_pdf(pages: int = 2) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(612, 792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_utf8_text_file() -> None:
    data = ("# notes\nThe unique phrase is quantum-marmalade-42.\n" + RUSSIAN).encode()
    result = extract("notes.md", data, LIMITS)
    assert isinstance(result, DocumentText)
    assert result.kind == "text" and result.encoding == "utf-8" and result.size == len(data)
    assert "quantum-marmalade-42" in result.text and "фиолетовый дирижабль" in result.text


def test_cp1251_text_file_is_detected() -> None:
    data = RUSSIAN.encode("cp1251")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = extract("letter.txt", data, LIMITS)
    assert isinstance(result, DocumentText)
    assert "фиолетовый дирижабль над Вологдой" in result.text
    assert result.encoding is not None


def test_utf16_log_with_bom() -> None:
    data = "ERROR 17:03 disk full on /var/zebra-volume\n".encode("utf-16")
    result = extract("app.log", data, LIMITS)
    assert isinstance(result, DocumentText) and "zebra-volume" in result.text


def test_pdf_text_and_pages() -> None:
    data = minimal_pdf(["First page: the unique phrase velvet-octopus-991.", "Second page."])
    result = extract("report.pdf", data, LIMITS)
    assert isinstance(result, DocumentText)
    assert result.kind == "PDF" and result.pages == 2 and result.total_pages == 2
    assert "velvet-octopus-991" in result.text and "Second page." in result.text


def test_pdf_page_limit_is_reported() -> None:
    data = minimal_pdf([f"Page number {n} text." for n in range(1, 6)])
    result = extract("long.pdf", data, DocumentLimits(max_pages=3))
    assert isinstance(result, DocumentText)
    assert (result.pages, result.total_pages) == (3, 5)
    assert "Page number 3" in result.text and "Page number 4" not in result.text
    excerpt = fit_document(result, 10_000)
    assert excerpt.pages_cut and "pages 1-3 of 5" in excerpt.usage_note()


def test_scanned_pdf_without_text_is_named() -> None:
    result = extract("scan.pdf", blank_pdf(), LIMITS)
    assert isinstance(result, Unreadable)
    assert result.reason == "no_text" and "PDF without a text layer" in result.kind


def test_password_protected_pdf() -> None:
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    writer.encrypt("secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    result = extract("locked.pdf", out.getvalue(), LIMITS)
    assert isinstance(result, Unreadable) and result.reason == "encrypted"


def test_damaged_pdf() -> None:
    result = extract("broken.pdf", b"%PDF-1.4\n1 0 obj garbage", LIMITS)
    assert isinstance(result, Unreadable) and result.reason == "damaged"


def test_docx_paragraphs_and_tables() -> None:
    data = make_docx(
        ["Quarterly plan", "The unique phrase is amber-walrus-314."],
        table=[["Item", "Cost"], ["Coffee", "12"]],
    )
    result = extract("plan.docx", data, LIMITS)
    assert isinstance(result, DocumentText) and result.kind == "DOCX"
    assert "amber-walrus-314" in result.text and "Coffee | 12" in result.text


def test_html_readable_text() -> None:
    html = (
        "<!DOCTYPE html><html><head><title>Release notes</title><style>p{color:red}</style>"
        "<script>var secret = 'do-not-show';</script></head><body><nav>Home | About</nav>"
        "<h1>Version 2</h1><p>The unique   phrase is\n<b>copper-heron-77</b>.</p>"
        "<ul><li>one</li><li>two</li></ul></body></html>"
    )
    result = extract("notes.html", html.encode(), LIMITS)
    assert isinstance(result, DocumentText) and result.kind == "HTML"
    assert result.text.startswith("Release notes")
    assert "The unique phrase is copper-heron-77." in result.text
    assert "do-not-show" not in result.text and "color:red" not in result.text
    assert "Home | About" not in result.text
    assert "one\ntwo" in result.text


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG image"),
        ("pic.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, "JPEG image"),
        ("code.zip", make_zip({"main.py": b"print(1)"}), "ZIP archive"),
        ("table.xlsx", make_zip({"xl/workbook.xml": b"<x/>"}), "Excel workbook (XLSX)"),
        ("logs.tar.gz", b"\x1f\x8b\x08\x00" + b"\x00" * 64, "gzip archive"),
        ("tool.exe", b"MZ\x90\x00" + b"\x00" * 64, "Windows executable"),
        (
            "old.doc",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
            "old Office document (.doc/.xls/.ppt)",
        ),
        ("blob.bin", bytes(range(256)) * 4, "binary file"),
    ],
)
def test_unreadable_files_name_their_type(name: str, data: bytes, kind: str) -> None:
    result = extract(name, data, LIMITS)
    assert isinstance(result, Unreadable)
    assert (result.kind, result.reason, result.name, result.size) == (
        kind,
        "unsupported",
        name,
        len(data),
    )


def test_size_limits_before_and_after_download() -> None:
    limits = DocumentLimits(max_bytes=1000)
    refused = refuse_before_download("big.pdf", 5000, limits)
    assert refused == Unreadable("big.pdf", "PDF file", "too_big", 5000)
    assert refuse_before_download("small.pdf", 999, limits) is None
    assert refuse_before_download("unknown", None, limits) is None
    # The bot never asks for more than Telegram lets bots download (20 MB).
    assert refuse_before_download("huge.txt", 21 * 1024 * 1024, DocumentLimits(max_bytes=10**9))
    result = extract("big.txt", b"x" * 1001, limits)
    assert isinstance(result, Unreadable) and result.reason == "too_big"


def test_every_unreadable_reason_has_texts() -> None:
    for key in UNREADABLE_TEXT_KEYS.values():
        for lang in ("en", "ru"):
            t(key, lang, name="a.bin", kind="ZIP archive", size="1 MB", limit="2 MB")
    assert human_size(512) == "512 B" and human_size(2048) == "2.0 KB"
    assert human_size(3 * 1024 * 1024) == "3.0 MB"


def test_a_long_document_is_cut_and_says_what_was_used() -> None:
    words = [f"word{n}" for n in range(20_000)]
    document = DocumentText("book.txt", "text", " ".join(words), 150_000)
    excerpt = fit_document(document, 1000)
    assert 900 <= excerpt.used_tokens <= 1000 < excerpt.total_tokens
    assert document.text.startswith(excerpt.text) and not excerpt.text.endswith(" ")
    assert excerpt.used_tokens == estimate_tokens(excerpt.text)
    note = excerpt.usage_note()
    assert f"only the first {excerpt.used_tokens} of ~{excerpt.total_tokens} tokens" in note
    turn = document_turn(excerpt, "summarize chapter one")
    assert turn.startswith('[File "book.txt": text, 150000 bytes, only the first')
    assert excerpt.text in turn and turn.endswith("summarize chapter one")


def test_a_short_document_is_complete() -> None:
    excerpt = fit_document(DocumentText("a.txt", "text", "tiny file", 9), 1000)
    assert excerpt.used_tokens == excerpt.total_tokens and not excerpt.pages_cut
    assert excerpt.text == "tiny file"
    assert excerpt.usage_note() == "text, 9 bytes, complete"
    assert "without a question" in document_turn(excerpt, "")


def test_history_keeps_a_bounded_form() -> None:
    document = DocumentText("log.txt", "text", "line of the log\n" * 3000, 48_000)
    excerpt = fit_document(document, 4000)
    kept = document_history(excerpt, "why did it fail?", 300)
    assert estimate_tokens(kept) < 400
    assert "history keeps only the first" in kept and kept.endswith("why did it fail?")
    assert document_history(excerpt, "q", 10_000) == document_turn(excerpt, "q")


def test_prepare_document_tells_the_user_what_was_used() -> None:
    document = DocumentText("book.pdf", "PDF", "sentence of the book. " * 4000, 900_000, 50, 120)
    turn = prepare_document(document, "who is the killer?", token_limit=2000, history_tokens=500)
    (truncated, pages) = turn.notices
    assert truncated == (
        "doc_truncated",
        {"name": "book.pdf", "used": turn.excerpt.used_tokens, "total": turn.excerpt.total_tokens},
    )
    assert pages == ("doc_pages_cut", {"name": "book.pdf", "pages": 50, "total": 120})
    for key, values in turn.notices:
        assert t(key, "en", **values) and t(key, "ru", **values)
    assert turn.content == document_turn(turn.excerpt, "who is the killer?")
    assert estimate_tokens(turn.history) < 600 < estimate_tokens(turn.content)
    short = prepare_document(DocumentText("a.txt", "text", "hi", 2), "", 2000, 500)
    assert short.notices == () and short.history == short.content


def test_unreadable_notice_texts() -> None:
    key, values = unreadable_notice(Unreadable("a.zip", "ZIP archive", "unsupported", 10), 1024)
    assert t(key, "en", **values) == (
        "I can't read a.zip: it is a ZIP archive. I read text and code files, PDF with text, "
        "DOCX and HTML."
    )
    key, values = unreadable_notice(Unreadable("b.pdf", "PDF file", "too_big", 30 << 20), 10 << 20)
    assert "30.0 MB" in t(key, "ru", **values)
    assert "10.0 MB" in t(key, "en", **values)


def test_a_docx_zip_bomb_is_refused_before_it_is_inflated() -> None:
    bomb = docx_bomb(make_docx(["x"]))  # 60 MB of XML in ~120 KB (the issue's: 62 KB)
    result = extract("bomb.docx", bomb, LIMITS)
    assert result == Unreadable(
        "bomb.docx", "DOCX that expands too much (a zip bomb?)", "too_complex", len(bomb)
    )
    key, values = unreadable_notice(result, LIMITS.max_bytes)
    assert key == "doc_too_complex" and "bomb.docx" in t(key, "ru", **values)


def test_zip_limits_count_what_the_headers_declare() -> None:
    def member(size: int, packed: int) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo("word/part.xml")
        info.file_size, info.compress_size = size, packed
        return info

    assert not zip_bomb([member(5 << 20, 1 << 20), member(900_000, 1000)])  # 5x; small
    assert zip_bomb([member(3 << 20, 20_000)])  # over 100x
    assert zip_bomb([member(30 << 20, 10 << 20)] * 3)  # 90 MB in all
    assert zip_bomb([member(10, 10)] * 6000)


def test_any_parser_error_is_a_damaged_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """lxml's XPathEvalError escaped python-docx on a large bomb: no parser error escapes."""

    def explode(_: object) -> None:
        raise RuntimeError("XPathEvalError: Memory allocation failed")

    data = make_docx(["x"])
    monkeypatch.setattr(docx, "Document", explode)
    result = extract("odd.docx", data, LIMITS)
    assert isinstance(result, Unreadable) and result.reason == "damaged"


def test_an_html_file_of_end_tags_reads_as_its_text() -> None:
    # "</" with no ">" after it is text; HTMLParser looked for the ">" again at each one.
    result = extract("flood.html", end_tag_flood(400_000), LIMITS)
    assert isinstance(result, DocumentText) and result.text == "</" * 200_000
    assert html_to_text("<p>a &lt; b</p><p>c</p>x</y</") == "a < b\n\nc\n\nx</y</"
