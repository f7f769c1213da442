"""OCR of PDF pages that have no text layer: pypdfium2 renders the page, Debian's tesseract reads it.

tesseract runs as a subprocess (`tesseract - - tsv`, the PNG on stdin) rather than through
pytesseract: pytesseract cannot set the child's environment, and OMP_THREAD_LIMIT=1 made tesseract
2-3x faster per page on a shared 2-core machine (its OpenMP threads spin instead of working); the
pipe also spares pytesseract's temporary files. Everything heavy is imported lazily, so importing
this module costs nothing when no scan is ingested. Nothing is downloaded: tesseract and its
language packs come from Debian (`make tesseract`).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

DPI = 300  # tesseract's preferred resolution for body text
MAX_SIDE_PX = 5000  # cap on the rendered page: some scanners write 1 px = 1 pt page sizes
PAGE_TIMEOUT_S = 180.0  # one page; a hung tesseract must not stall the whole ingest
MIN_INK = 0.002  # share of dark pixels above which a page holds something (not a blank page)
ENABLE_HINT = "set CADRES_OCR=1 (and install tesseract: `make tesseract`) to read scanned pages"


class OcrUnavailable(Exception):
    """tesseract or a language pack is missing; the message says what to install."""


@dataclass(frozen=True)
class OcrText:
    text: str
    confidence: float  # mean word confidence, 0-100 (0.0 when no word was found)
    words: int
    ink: float  # share of dark pixels on the rendered page


@dataclass
class ScanResult:
    """What OCR made of a PDF's image-only pages; the loader turns it into pages or a rejection."""

    pages: list[tuple[int, str]] = field(default_factory=list)
    confidence: dict[int, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    poor: list[str] = field(default_factory=list)  # pages left out: "page 3 (confidence 18.5)"
    blank: list[int] = field(default_factory=list)  # pages with nothing on them
    seconds: float = 0.0


def tesseract_path() -> str | None:
    return shutil.which("tesseract")


def apt_package(lang: str) -> str:
    """Debian's package for a tesseract language code: chi_sim -> tesseract-ocr-chi-sim."""
    return "tesseract-ocr-" + lang.lower().replace("_", "-")


def installed_languages() -> list[str]:
    """`tesseract --list-langs`; OcrUnavailable with the install command when tesseract is absent."""
    exe = tesseract_path()
    if exe is None:
        raise OcrUnavailable(
            "tesseract is not installed; install it with `make tesseract` "
            "(or `apt-get install tesseract-ocr tesseract-ocr-eng`)"
        )
    try:
        r = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise OcrUnavailable(f"tesseract at {exe} does not run ({e})") from e
    if r.returncode != 0:
        raise OcrUnavailable(f"tesseract at {exe} failed: {(r.stderr or r.stdout).strip()[:200]}")
    # The first line is 'List of available languages in "...":'.
    return [ln.strip() for ln in r.stdout.splitlines()[1:] if ln.strip()]


def check_languages(languages: str) -> str:
    """The '+'-joined languages to pass to tesseract, after checking every pack is installed.

    tesseract itself only warns about a missing pack in a combination (eng+xyz) and reads with the
    rest, so a typo would silently degrade every page: this check makes it an error instead.
    """
    wanted = [x.strip() for x in languages.replace(",", "+").split("+") if x.strip()] or ["eng"]
    have = installed_languages()
    missing = [x for x in wanted if x not in have]
    if missing:
        pkgs = " ".join(apt_package(x) for x in missing)
        raise OcrUnavailable(
            f"tesseract has no language pack for {', '.join(missing)} (installed: "
            f"{', '.join(have) or 'none'}); install it with `apt-get install {pkgs}` "
            "or change CADRES_OCR_LANGUAGES"
        )
    return "+".join(wanted)


def render_page(doc, index: int, dpi: int = DPI):
    """Page `index` (0-based) of an open pypdfium2 document as a greyscale PIL image."""
    page = doc[index]
    try:
        w, h = page.get_size()
        scale = min(dpi / 72, MAX_SIDE_PX / max(w, h, 1))
        return page.render(scale=scale, grayscale=True).to_pil().convert("L")
    finally:
        page.close()


def parse_tsv(tsv: str) -> tuple[str, float, int]:
    """tesseract's TSV -> (text with lines and paragraphs kept, mean word confidence, word count).

    Words with confidence -1 (layout rows, not words) and empty words are left out of the mean.
    """
    out: list[str] = []
    confs: list[float] = []
    prev = None
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        word = cols[11].strip()
        try:
            conf = float(cols[10])
        except ValueError:
            continue
        if not word or conf < 0:
            continue
        key = (cols[1], cols[2], cols[3], cols[4])  # page, block, paragraph, line
        if prev is not None:
            out.append(" " if key == prev else ("\n" if key[:3] == prev[:3] else "\n\n"))
        out.append(word)
        confs.append(conf)
        prev = key
    return "".join(out), (sum(confs) / len(confs) if confs else 0.0), len(confs)


def ocr_image(image, languages: str, dpi: int = DPI, timeout: float = PAGE_TIMEOUT_S) -> OcrText:
    """Run tesseract on one PIL image; OcrUnavailable when it cannot run, RuntimeError when it fails."""
    import numpy as np

    exe = tesseract_path()
    if exe is None:
        raise OcrUnavailable("tesseract is not installed; install it with `make tesseract`")
    grey = image.convert("L")
    ink = float((np.asarray(grey) < 128).mean())
    buf = io.BytesIO()
    grey.save(buf, format="PNG")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    cmd = [exe, "-", "-", "-l", languages, "--dpi", str(dpi), "tsv"]
    try:
        r = subprocess.run(cmd, input=buf.getvalue(), capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        raise RuntimeError(f"tesseract took over {timeout:g} s") from e
    except OSError as e:
        raise OcrUnavailable(f"tesseract at {exe} does not run ({e})") from e
    if r.returncode != 0:
        err = r.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"tesseract failed ({err[-1][:200] if err else f'exit {r.returncode}'})")
    text, conf, n = parse_tsv(r.stdout.decode("utf-8", "replace"))
    return OcrText(text=text, confidence=conf, words=n, ink=ink)


def read_scanned_pages(path: Path, page_numbers: list[int], languages: str, min_confidence: float) -> ScanResult:
    """OCR the given 1-based pages of a PDF, keeping those whose mean confidence reaches the bar.

    A page below the bar, or with ink but no word tesseract could read, is left out and named in a
    warning: OCR garbage would otherwise be retrieved and cited as if it were the document's text.
    Raises OcrUnavailable (tesseract or a pack missing) and RuntimeError (pdfium cannot open it).
    """
    import time

    import pypdfium2 as pdfium

    langs = check_languages(languages)
    res = ScanResult()
    t0 = time.perf_counter()
    try:
        doc = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as e:
        raise RuntimeError(f"the PDF renderer cannot open it ({e})") from e
    try:
        for n in page_numbers:
            try:
                got = ocr_image(render_page(doc, n - 1), langs)
            except (RuntimeError, IndexError, pdfium.PdfiumError) as e:
                res.warnings.append(f"{path.name}: page {n}: OCR failed ({e}); page left out")
                res.poor.append(f"page {n} (OCR failed)")
                continue
            if got.words == 0:
                if got.ink < MIN_INK:
                    res.blank.append(n)
                else:
                    res.warnings.append(
                        f"{path.name}: page {n}: scanned page with no text OCR could read ({langs}); page left out"
                    )
                    res.poor.append(f"page {n} (no readable text)")
                continue
            if got.confidence < min_confidence:
                res.warnings.append(
                    f"{path.name}: page {n}: OCR confidence {got.confidence:.1f} is below {min_confidence:g} "
                    "(CADRES_OCR_MIN_CONFIDENCE); page left out, check the scan"
                )
                res.poor.append(f"page {n} (confidence {got.confidence:.1f})")
                continue
            res.pages.append((n, got.text))
            res.confidence[n] = round(got.confidence, 1)
    finally:
        doc.close()
    res.seconds = time.perf_counter() - t0
    return res
