"""The PDFs archives really hold, in one folder: every file is either ingested or listed with a reason.

Encrypted (with and without a password to open it), scanned, corrupt, truncated, empty, a web page
saved as .pdf, two columns, Russian in an embedded TrueType font and Japanese in a CID font. One
real ingest (embedding model, Chroma in a temp dir, tesseract when installed).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from ingest_testlib import chunks_of, encrypted_pdf, make_pdf, open_store, settings_at, write
from test_ocr import LANGS, PAGES, scanned_pdf

from ingest import ingest_paths

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
RUSSIAN = [
    "Японские военнопленные работали на стройках Хабаровска до 1949 года.",
    "Последний эшелон ушёл в Находку осенью, и лагерь закрыли.",
]
JAPANESE = "日本人捕虜はシベリアの収容所で働いた。引揚船は舞鶴港に到着した。"
LEFT = [
    "The left column opens with the Dalian port office in 1947.",
    "Its clerks wrote the passenger lists by hand every morning.",
    "Each list was copied twice and sent to the Soviet command.",
]
RIGHT = [
    "The right column turns to the Harbin school for railway engineers.",
    "It opened in 1948 and taught in Japanese and in Chinese.",
    "Its last class graduated in the summer of 1953.",
]
OCR_READY = "eng" in LANGS

# file name -> None (ingested) or a regex its failure reason must match
EXPECTED: dict[str, str | None] = {
    "locked.pdf": r"^locked\.pdf: encrypted PDF \(password protected\)",
    "owner-only.pdf": None,  # encrypted, but with an empty password to open it: readable
    "scanned.pdf": None if OCR_READY else r"^scanned\.pdf: PDF has no text layer .*cannot be OCR'd: tesseract",
    "corrupt.pdf": r"^corrupt\.pdf: unreadable or corrupt PDF",
    "truncated.pdf": r"^truncated\.pdf: unreadable or corrupt PDF",
    "empty.pdf": r"^empty\.pdf: unreadable or corrupt PDF",
    "web-page.pdf": r"^web-page\.pdf: unreadable or corrupt PDF",
    "two-column.pdf": None,
    "russian.pdf": None,
    "japanese.pdf": None,
}


def two_column_pdf() -> bytes:
    """reportlab frames side by side; each sentence is wrapped over several lines of its column."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfgen import canvas
    from reportlab.platypus import Frame, Paragraph

    w, h = A4
    style = ParagraphStyle("body", fontName="Helvetica", fontSize=10, leading=13)
    col = (w - 140) / 2
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    Frame(60, 80, col, h - 160).addFromList([Paragraph(s, style) for s in LEFT], c)
    Frame(80 + col, 80, col, h - 160).addFromList([Paragraph(s, style) for s in RIGHT], c)
    c.showPage()
    c.save()
    return buf.getvalue()


def russian_pdf() -> bytes:
    """Cyrillic in DejaVu Sans, embedded (subset) by reportlab, one sentence per line."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("DejaVuSans", str(FONT)))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("DejaVuSans", 12)
    for i, line in enumerate(RUSSIAN):
        c.drawString(72, 760 - 16 * i, line)
    c.showPage()
    c.save()
    return buf.getvalue()


def japanese_pdf() -> bytes:
    """Japanese in reportlab's built-in HeiseiMin CID font (not embedded, as in many older PDFs)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiMin-W3"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("HeiseiMin-W3", 12)
    c.drawString(72, 760, JAPANESE)
    c.showPage()
    c.save()
    return buf.getvalue()


def owner_only_pdf() -> bytes:
    """Encrypted with an owner password only (printing/copying limits): opens without a password."""
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter()
    w.append(PdfReader(io.BytesIO(make_pdf([["An owner-locked report on the Nakhodka transit camp."]]))))
    w.encrypt(user_password="", owner_password="owner-only")
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def mix(tmp_path_factory):
    pytest.importorskip("reportlab", reason="reportlab (a dev dependency) makes the font and column PDFs")
    if not FONT.exists():
        pytest.skip(f"no TrueType font at {FONT} (Debian fonts-dejavu-core)")
    import random

    from rag.store import forget_client

    base = tmp_path_factory.mktemp("pdfmix")
    root = base / "docs"
    rnd = random.Random(7)
    write(root / "locked.pdf", encrypted_pdf("s3cret"))
    write(root / "owner-only.pdf", owner_only_pdf())
    write(root / "scanned.pdf", scanned_pdf(PAGES[:2]))
    write(root / "corrupt.pdf", b"%PDF-1.7\n" + bytes(rnd.randrange(256) for _ in range(3000)))
    whole = two_column_pdf()
    write(root / "truncated.pdf", whole[: len(whole) * 6 // 10])
    write(root / "empty.pdf", b"")
    write(root / "web-page.pdf", b"<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>\n")
    write(root / "two-column.pdf", whole)
    write(root / "russian.pdf", russian_pdf())
    write(root / "japanese.pdf", japanese_pdf())
    settings = settings_at(base / "data", ocr=True, ocr_languages="eng", ocr_min_confidence=50.0)
    report = ingest_paths([root], settings, progress=False)
    yield root, settings, report
    forget_client(settings)


def _text(settings, path: Path) -> str:
    return " ".join(" ".join(t for _, t, _ in chunks_of(settings, path)).split())


def test_every_file_is_either_ingested_or_listed_with_a_reason(mix):
    root, settings, report = mix
    failed = {Path(f.path).name: f.error for f in report.files_failed}
    ingested = {Path(k).name for k in open_store(settings).manifest()}
    assert not failed.keys() & ingested
    assert failed.keys() | ingested == set(EXPECTED) == {p.name for p in root.iterdir()}
    assert report.files_seen == len(EXPECTED)
    for name, reason in EXPECTED.items():
        if reason is None:
            assert name in ingested, (name, failed.get(name))
            assert chunks_of(settings, root / name), name
        else:
            assert name in failed, name
            assert re.match(reason, failed[name]), (name, failed[name])
            assert "\n" not in failed[name] and "Traceback" not in failed[name]
    assert report.files_added == sum(r is None for r in EXPECTED.values())


def test_two_columns_are_read_column_by_column(mix):
    root, settings, _ = mix
    text = _text(settings, root / "two-column.pdf")
    at = [text.find(s) for s in LEFT + RIGHT]
    assert -1 not in at, text
    assert at == sorted(at), text  # the left column whole, then the right: no interleaved lines


def test_russian_and_japanese_text_arrive_as_written(mix):
    root, settings, _ = mix
    ru = _text(settings, root / "russian.pdf")
    assert all(s in ru for s in RUSSIAN), ru
    assert _text(settings, root / "japanese.pdf").replace(" ", "") == JAPANESE


def test_the_owner_locked_pdf_is_read(mix):
    root, settings, _ = mix
    assert "Nakhodka transit camp" in _text(settings, root / "owner-only.pdf")


@pytest.mark.skipif(not OCR_READY, reason="tesseract with the eng pack is not installed (`make tesseract`)")
def test_the_scan_in_the_mix_is_ocrd_page_by_page(mix):
    root, settings, _ = mix
    rows = chunks_of(settings, root / "scanned.pdf")
    assert {m["page"] for _, _, m in rows} == {1, 2}
    assert all(m["ocr_confidence"] >= 80 for _, _, m in rows)
