"""The hostile inputs of issue 25, rebuilt: a PDF whose pages share one costly content stream,
a DOCX zip bomb, an HTML file of "</", and the calculate expressions that froze the bot."""

from __future__ import annotations

import io
import zipfile
import zlib

# Each allocated hundreds of MB or ran for tens of seconds with the event loop stalled.
HOSTILE_EXPRESSIONS = (
    "round(7, -2*10**7)",
    "(1).to_bytes(300000000, 'big')",
    "'a'.center(3e8)",
    "'%0100000000d' % 1",
)


def shared_stream_pdf(pages: int = 50, stream_bytes: int = 5 * 1024 * 1024) -> bytes:
    """~20 KB: `pages` pages drawing the same Flate-compressed content stream of `stream_bytes`
    of text operators (pypdf spends seconds on each page)."""
    operator = b"BT /F1 12 Tf 72 720 Td (a) Tj ET\n"
    packed = zlib.compress(operator * (stream_bytes // len(operator)), 9)
    kids = " ".join(f"{5 + i} 0 R" for i in range(pages))
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(packed), packed),
    ]
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    )
    bodies += [page] * pages
    return pdf_of(bodies)


def pdf_of(bodies: list[bytes]) -> bytes:
    """A PDF file of these objects (numbered from 1), with its cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, xref)
    )
    return out.getvalue()


def docx_bomb(docx: bytes, expanded: int = 60 * 1024 * 1024) -> bytes:
    """The DOCX `docx` with its word/document.xml replaced by `expanded` bytes of paragraphs
    that deflate about 1000 to 1 (60 MB: a ~62 KB file)."""
    head = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w='
        b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    )
    tail = b"</w:body></w:document>"
    paragraph = b"<w:p><w:r><w:t>" + b"a" * 4000 + b"</w:t></w:r></w:p>"
    body = head + paragraph * ((expanded - len(head) - len(tail)) // len(paragraph)) + tail
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(docx)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb,
    ):
        for item in source.infolist():
            data = body if item.filename == "word/document.xml" else source.read(item)
            bomb.writestr(item.filename, data)
    return out.getvalue()


def end_tag_flood(size: int = 800 * 1024) -> bytes:
    """An .html file of "</" repeated (quadratic in Python 3.11's HTMLParser: 800 KB took 59 s)."""
    return b"</" * (size // 2)
