"""Scanned PDFs: pages without a text layer are read by Debian's tesseract, cited with their page and 'OCR'.

The scans are made here: sentences drawn with a TrueType font by Pillow, saved as an image-only PDF
(no text layer, checked), then ingested with the real pipeline, embedding model, Chroma and
tesseract. Needs `tesseract` with the eng pack (`make tesseract`); skipped, saying so, without it.
"""

from __future__ import annotations

import io
import re
import shutil
import textwrap
import time
from pathlib import Path

import pytest
from ingest_testlib import chunks_of, make_pdf, settings_at, write

from ingest import ingest_paths
from ingest.errors import FileRejected
from ingest.loaders import load_file

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT = FONT_DIR / "DejaVuSerif.ttf"  # has Cyrillic too; Debian's fonts-dejavu-core
DPI = 200  # of the scans made here; ingest.ocr renders them at 300


def ocr_settings(**overrides):
    """Settings with the OCR defaults spelled out, whatever CADRES_OCR* the developer's shell has."""
    from rag.settings import Settings

    return Settings(**{"chroma_url": None, "ocr": True, "ocr_languages": "eng", "ocr_min_confidence": 50.0, **overrides})


def _tesseract_langs() -> list[str]:
    from ingest.ocr import OcrUnavailable, installed_languages

    try:
        return installed_languages()
    except OcrUnavailable:
        return []


LANGS = _tesseract_langs()
needs_tesseract = pytest.mark.skipif(
    "eng" not in LANGS,
    reason="tesseract with the eng pack is not installed (`make tesseract`, as root, installs "
    "Debian's tesseract-ocr); OCR tests skipped",
)
needs_font = pytest.mark.skipif(not FONT.exists(), reason=f"no TrueType font at {FONT} (Debian fonts-dejavu-core)")

PAGES = [
    "The Dalian harbour office recorded the departure of the repatriation ships in the spring of "
    "1947. Each ship carried about two thousand Japanese civilians.\n\nThe office kept lists of "
    "names, ages and home prefectures.",
    "In the autumn of 1948 the Harbin committee opened a school for Japanese technicians who "
    "stayed in Manchuria. The school taught railway engineering and Chinese.\n\nMost of its "
    "students returned to Japan in 1953.",
    "A hospital in Mukden kept forty Japanese doctors at work until 1950. They treated soldiers "
    "of the new army and wrote reports on typhus.",
]


FUSHUN = "Japanese engineers ran the Fushun coal mine for the new government until 1952."
NURSES = "The attached report names the Japanese nurses who served in the hospitals of Changchun until 1953."


def scan_image(text: str, size: int = 36, width: int = 1700, height: int = 2200):
    """A white greyscale page (8.5 x 11 in at 200 dpi) with `text` drawn in black, paragraphs kept."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(FONT), size)
    y = 150
    for para in text.split("\n\n"):
        for line in textwrap.wrap(para, width=int((width - 240) / (size * 0.55))):
            draw.text((120, y), line, font=font, fill=0)
            y += int(size * 1.5)
        y += size
    return img


def noise_image(seed: int = 3, width: int = 1700, height: int = 2200):
    """Black and white blocks: ink all over the page but no words (what a ruined scan gives)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    cells = (rng.random((height // 8, width // 8)) < 0.5).astype(np.uint8) * 255
    return Image.fromarray(cells).resize((width, height), Image.NEAREST)


def image_pdf(images) -> bytes:
    """An image-only PDF (one picture per page, no text layer), as a scanner writes it."""
    buf = io.BytesIO()
    images[0].save(buf, format="PDF", save_all=True, append_images=list(images[1:]), resolution=DPI)
    return buf.getvalue()


def scanned_pdf(pages: list[str] = PAGES) -> bytes:
    return image_pdf([scan_image(t) for t in pages])


def text_then_scan_pdf() -> bytes:
    """Page 1 has a text layer; page 2 is a scanned image (a typed cover on a scanned report)."""
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter()
    w.append(PdfReader(io.BytesIO(make_pdf([["Cover note typed in 1960.", "The report follows."]]))))
    w.append(PdfReader(io.BytesIO(scanned_pdf([NURSES]))))
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def _text_layer(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [(p.extract_text() or "").strip() for p in PdfReader(str(path)).pages]


# --------------------------------------------------------------------------- one ingest, many checks


@pytest.fixture(scope="module")
def scan_run(tmp_path_factory):
    if "eng" not in LANGS or not FONT.exists():
        pytest.skip("needs tesseract with eng and the DejaVu font")
    from rag.store import forget_client

    base = tmp_path_factory.mktemp("ocr")
    root = base / "docs"
    write(root / "scan.pdf", scanned_pdf())
    write(root / "scan.pdf.meta.yaml", "title: Harbour and School Records\nauthors: [Ivanov, Pyotr]\nyear: 1954\n")
    write(root / "noisy.pdf", image_pdf([scan_image(FUSHUN), noise_image()]))
    write(root / "ruined.pdf", image_pdf([noise_image(seed=4)]))
    write(root / "typed-cover.pdf", text_then_scan_pdf())
    settings = settings_at(base / "data", ocr=True, ocr_languages="eng", ocr_min_confidence=50.0)
    t0 = time.perf_counter()
    report = ingest_paths([root], settings, progress=False)
    seconds = time.perf_counter() - t0
    yield root, settings, report, seconds
    forget_client(settings)


@needs_tesseract
def test_the_scans_have_no_text_layer(scan_run):
    root, *_ = scan_run
    assert _text_layer(root / "scan.pdf") == ["", "", ""]
    assert _text_layer(root / "noisy.pdf") == ["", ""]
    assert _text_layer(root / "ruined.pdf") == [""]
    cover, scanned = _text_layer(root / "typed-cover.pdf")
    assert cover and not scanned


@needs_tesseract
def test_scanned_pages_are_ingested_with_their_page_and_confidence(scan_run):
    root, settings, report, seconds = scan_run
    assert not [f for f in report.files_failed if not f.path.endswith("ruined.pdf")], report.files_failed
    rows = chunks_of(settings, root / "scan.pdf")
    assert {m["page"] for _, _, m in rows} == {1, 2, 3}
    for _, text, m in rows:
        assert m["ocr_confidence"] >= 80, (m["page"], m["ocr_confidence"], text)
    by_page = {m["page"]: t for _, t, m in rows}
    assert "Harbin committee opened a school" in " ".join(by_page[2].split())
    assert "forty Japanese doctors" in " ".join(by_page[3].split())
    print(f"\nOCR ingest of 4 scanned PDFs (7 pages): {seconds:.1f} s; confidence by page:",
          {m["page"]: m["ocr_confidence"] for _, _, m in rows})


@needs_tesseract
def test_a_question_is_answered_from_the_right_scanned_page(scan_run):
    from rag import Assistant
    from ui.rendering import source_label

    _, settings, _, _ = scan_run
    ans = Assistant(settings).ask("What did the Harbin committee open for Japanese technicians in 1948?")
    assert not ans.refused, ans.answer
    top = ans.citations[0]
    assert (top.title, top.page, top.ocr) == ("Harbour and School Records", 2, True), ans.citations
    assert "school" in top.quote
    assert "p. 2 \u00b7 OCR" in source_label(top)
    ans = Assistant(settings).ask("How many Japanese civilians did each repatriation ship from Dalian carry?")
    assert not ans.refused, ans.answer
    assert (ans.citations[0].page, ans.citations[0].ocr) == (1, True), ans.citations


@needs_tesseract
def test_cli_marks_citations_from_ocr_pages(scan_run, cadres_cli):
    _, settings, _, _ = scan_run
    proc = cadres_cli.run(
        "ask", "Which doctors did the hospital in Mukden keep at work?", env={"CADRES_DATA_DIR": settings.data_dir}
    )
    assert proc.returncode == 0, proc.stderr
    assert "p. 3 \u00b7 OCR. Harbour and School Records." in proc.stdout, proc.stdout
    assert "Traceback" not in proc.stderr


@needs_tesseract
def test_a_noise_page_is_reported_not_ingested(scan_run):
    root, settings, report, _ = scan_run
    warned = [w for w in report.warnings if Path(w.path).name == "noisy.pdf"]
    assert len(warned) == 1, report.warnings
    assert warned[0].warning.startswith("noisy.pdf: page 2: ")
    assert "left out" in warned[0].warning
    rows = chunks_of(settings, root / "noisy.pdf")
    assert rows and {m["page"] for _, _, m in rows} == {1}


@needs_tesseract
def test_a_pdf_with_only_unreadable_scans_is_rejected_with_the_reason(scan_run):
    root, settings, report, _ = scan_run
    failed = {Path(f.path).name: f.error for f in report.files_failed}
    assert failed.keys() == {"ruined.pdf"}
    assert re.match(
        r"ruined\.pdf: scanned PDF whose OCR is too poor to ingest: page 1 \((confidence \d+\.\d|no readable text)\)",
        failed["ruined.pdf"],
    ), failed["ruined.pdf"]
    assert "CADRES_OCR_MIN_CONFIDENCE" in failed["ruined.pdf"]
    assert chunks_of(settings, root / "ruined.pdf") == []


@needs_tesseract
def test_text_pages_and_scanned_pages_of_one_pdf_keep_their_numbers(scan_run):
    root, settings, _, _ = scan_run
    rows = chunks_of(settings, root / "typed-cover.pdf")
    pages = {m["page"]: ("ocr_confidence" in m, t) for _, t, m in rows}
    assert set(pages) == {1, 2}
    assert pages[1][0] is False and "Cover note typed in 1960" in pages[1][1]
    assert pages[2][0] is True and "nurses who served in the hospitals of Changchun" in " ".join(pages[2][1].split())


# --------------------------------------------------------------------------- switches and absences


@needs_font
def test_ocr_off_rejects_a_scan_naming_the_file_and_the_switch(tmp_path, monkeypatch, make_settings):
    monkeypatch.setenv("CADRES_OCR", "0")
    path = write(tmp_path / "docs" / "archive-scan.pdf", scanned_pdf(PAGES[:1]))
    settings = make_settings()
    assert settings.ocr is False
    report = ingest_paths([path.parent], settings, progress=False)
    assert report.files_added == 0
    [failure] = report.files_failed
    assert failure.error.startswith("archive-scan.pdf: PDF has no text layer (scanned image?) and OCR is off")
    assert "CADRES_OCR=1" in failure.error


@needs_font
def test_missing_tesseract_is_a_clear_rejection(tmp_path, monkeypatch):
    path = write(tmp_path / "scan.pdf", scanned_pdf(PAGES[:1]))
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # tesseract cannot be found, as on a machine without it
    with pytest.raises(FileRejected) as e:
        load_file(path, ocr_settings())
    msg = str(e.value)
    assert msg.startswith("scan.pdf: PDF has no text layer (scanned image?) and cannot be OCR'd: ")
    assert "tesseract is not installed" in msg and "make tesseract" in msg


@needs_tesseract
@needs_font
def test_a_missing_language_pack_is_named_with_its_debian_package(tmp_path):
    path = write(tmp_path / "scan.pdf", scanned_pdf(PAGES[:1]))
    with pytest.raises(FileRejected) as e:
        load_file(path, ocr_settings(ocr_languages="eng+xx_nolang"))
    msg = str(e.value)
    assert msg.startswith("scan.pdf: ") and "no language pack for xx_nolang" in msg
    assert "apt-get install tesseract-ocr-xx-nolang" in msg and "CADRES_OCR_LANGUAGES" in msg


@needs_tesseract
@needs_font
def test_pages_below_the_confidence_bar_are_named_with_their_confidence(tmp_path):
    path = write(tmp_path / "faint.pdf", scanned_pdf(PAGES[:2]))
    with pytest.raises(FileRejected) as e:
        load_file(path, ocr_settings(ocr_min_confidence=99.5))  # the clean scan reads ~96
    msg = str(e.value)
    got = re.findall(r"page (\d) \(confidence (\d+\.\d)\)", msg)
    assert [n for n, _ in got] == ["1", "2"], msg
    assert all(80 <= float(c) < 99.5 for _, c in got), msg
    assert msg.startswith("faint.pdf: scanned PDF whose OCR is too poor to ingest: ") and "below the minimum 99.5" in msg


@needs_tesseract
@needs_font
def test_a_blank_page_is_skipped_quietly_and_a_dotted_page_is_reported(tmp_path):
    """A truly blank page needs no warning; a page with ink and no readable word does."""
    import numpy as np
    from PIL import Image

    blank = Image.new("L", (1700, 2200), 255)
    dots = np.where(np.random.default_rng(1).random((2200, 1700)) < 0.5, 0, 255).astype(np.uint8)
    path = write(tmp_path / "mixed.pdf", image_pdf([scan_image(PAGES[0]), blank, Image.fromarray(dots)]))
    loaded = load_file(path, ocr_settings())
    assert [n for n, _ in loaded.pages] == [1]
    assert set(loaded.ocr) == {1}
    assert len(loaded.warnings) == 1 and loaded.warnings[0].startswith("mixed.pdf: page 3: "), loaded.warnings


@pytest.mark.skipif("rus" not in LANGS, reason="tesseract's rus pack is not installed (`make tesseract`)")
@needs_font
def test_a_russian_scan_is_read_with_the_rus_pack(tmp_path):
    ru = "Японские военнопленные строили дома в Хабаровске до 1949 года."
    path = write(tmp_path / "ru.pdf", image_pdf([scan_image(ru)]))
    loaded = load_file(path, ocr_settings(ocr_languages="rus+eng"))
    text = " ".join(loaded.pages[0][1].split())
    assert "военнопленные" in text and "Хабаровске" in text, text
    assert loaded.ocr[1] >= 70


def test_tsv_words_become_lines_and_paragraphs_and_layout_rows_are_not_averaged():
    from ingest.ocr import parse_tsv

    head = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [
        "1\t1\t0\t0\t0\t0\t0\t0\t10\t10\t-1\t",
        "4\t1\t1\t1\t1\t0\t0\t0\t10\t10\t-1\t",
        "5\t1\t1\t1\t1\t1\t0\t0\t1\t1\t90\tShips",
        "5\t1\t1\t1\t1\t2\t0\t0\t1\t1\t80\tleft",
        "5\t1\t1\t1\t2\t1\t0\t0\t1\t1\t70\tDalian.",
        "5\t1\t1\t1\t2\t2\t0\t0\t1\t1\t-1\t",
        "5\t1\t1\t2\t1\t1\t0\t0\t1\t1\t60\tThen",
        "5\t1\t2\t1\t1\t1\t0\t0\t1\t1\t50.5\tMore",
    ]
    text, conf, n = parse_tsv("\n".join([head, *rows]))
    assert text == "Ships left\nDalian.\n\nThen\n\nMore"
    assert n == 5 and conf == pytest.approx((90 + 80 + 70 + 60 + 50.5) / 5)
    assert parse_tsv(head) == ("", 0.0, 0)


def test_debian_package_names_for_language_codes():
    from ingest.ocr import apt_package

    assert [apt_package(x) for x in ("eng", "jpn", "rus", "chi_sim")] == [
        "tesseract-ocr-eng", "tesseract-ocr-jpn", "tesseract-ocr-rus", "tesseract-ocr-chi-sim",
    ]


def test_importing_ocr_loads_nothing_heavy():
    import subprocess
    import sys

    code = "import sys, ingest.ocr; print(sorted(m for m in ('pypdfium2', 'numpy', 'PIL', 'pypdf') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_tesseract_is_found_when_installed():
    """Guards the skip above: where `tesseract` is on PATH, the OCR tests must not be skipped."""
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract not installed (`make tesseract`); OCR tests skipped")
    assert "eng" in LANGS, f"tesseract is installed but its eng pack is not: {LANGS}"
