"""Read one file into text pages, decoding whatever encoding it arrived in."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ingest.cleaning import clean_text, markdown_to_text
from ingest.errors import FileRejected
from rag.settings import Settings, get_settings

SUPPORTED = {".txt", ".md", ".markdown", ".pdf", ".html", ".htm"}


@dataclass
class Loaded:
    pages: list[tuple[int | None, str]]  # (page number or None, cleaned text)
    front_matter: dict = field(default_factory=dict)
    html_title: str | None = None
    warnings: list[str] = field(default_factory=list)  # for IngestReport.warnings
    ocr: dict[int, float] = field(default_factory=dict)  # page -> tesseract's mean word confidence


def decode_bytes(data: bytes, name: str, warnings: list[str] | None = None) -> str:
    """BOMs first, then UTF-16 by its NUL pattern, then strict UTF-8, then detection.

    Never a silent replacement of bytes. A guess that other encodings would match about as well is
    reported in `warnings` (it ends in IngestReport.warnings), so nobody stores garbage unknowingly.
    """
    for bom, enc in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(enc)
            except UnicodeDecodeError as e:
                raise FileRejected(f"{name}: corrupt {enc} text ({e.reason})") from e
    head = data[:8192]
    utf16 = _utf16_by_nuls(head)
    if utf16:
        try:
            return data.decode(utf16)
        except UnicodeDecodeError:
            pass
    if head and _control_share(head) > BINARY_CONTROL_SHARE:
        raise FileRejected(
            f"{name}: binary file ({_control_share(head):.0%} control bytes such as NUL), not text"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return _detect(data, name, warnings)


# Text has next to no control bytes; compiled data, images and archives have many. One stray NUL
# does not make a text file binary.
BINARY_CONTROL_SHARE = 0.05
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\x0b\x0c\x1b") + b"\x7f"


def _control_share(head: bytes) -> float:
    return sum(head.count(b) for b in _CONTROL_BYTES) / len(head)


def _utf16_by_nuls(head: bytes) -> str | None:
    """UTF-16 without a BOM shows as NULs in every other byte wherever the text is Latin script."""
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    e, o = even.count(0) / len(even), odd.count(0) / len(odd)
    if o > 0.3 and e < 0.02:
        return "utf-16-le"
    if e > 0.3 and o < 0.02:
        return "utf-16-be"
    return None


_LATIN_SINGLE_BYTE = {
    "cp1250", "cp1252", "cp1254", "cp1257", "latin_1", "iso8859_2", "iso8859_4", "iso8859_9", "iso8859_13",
    "iso8859_15", "mac_latin2", "mac_roman", "cp850", "cp437",
}
_KANA = re.compile(r"[\u3041-\u309f\u30a0-\u30ff]")


def _kana_share(text: str) -> float:
    return len(_KANA.findall(text)) / max(1, len(text))


def _detect(data: bytes, name: str, warnings: list[str] | None) -> str:
    from charset_normalizer import from_bytes

    results = list(from_bytes(data))
    if not results:
        raise FileRejected(f"{name}: could not detect the text encoding (binary or corrupt file)")
    best = results[0]
    close = [r for r in results[1:] if r.chaos <= best.chaos + 0.1]
    if best.encoding in _LATIN_SINGLE_BYTE:
        # Detection cannot tell the Western code pages apart on short texts; cp1252 (Windows
        # Western) is by far the most common source of non-UTF-8 text, so it wins when it decodes.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    # Written Japanese always carries kana, and the same bytes read as Korean or Chinese carry
    # none: on short texts the detector's scores tie, and the kana decide.
    if _kana_share(str(best)) < 0.05:
        japanese = [r for r in close if _kana_share(str(r)) >= 0.15]
        if japanese:
            close = [r for r in [best, *close] if r is not japanese[0]]
            best = japanese[0]
    if warnings is not None and len(data) < 4096 and (close or best.chaos > 0.2):
        others = ", ".join(dict.fromkeys(r.encoding for r in close if r.encoding != best.encoding))
        warnings.append(
            f"{name}: text encoding guessed as {best.encoding} with low confidence"
            + (f" ({others} would also fit)" if others else "")
            + "; check the text, or save the file as UTF-8"
        )
    return str(best)


def split_front_matter(text: str, name: str) -> tuple[dict, str]:
    if not text.startswith("---"):
        return {}, text
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return {}, text
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            raw = "\n".join(lines[1:i])
            try:
                fm = yaml.safe_load(raw) or {}
            except yaml.YAMLError as e:
                raise FileRejected(f"{name}: invalid YAML front matter ({str(e).splitlines()[0]})") from e
            if not isinstance(fm, dict):
                raise FileRejected(f"{name}: front matter must be a YAML mapping")
            return fm, "\n".join(lines[i + 1 :])
    return {}, text


def _load_text(path: Path, markdown: bool) -> Loaded:
    warnings: list[str] = []
    text = decode_bytes(path.read_bytes(), path.name, warnings)
    fm, body = split_front_matter(text.lstrip("\ufeff"), path.name)
    if markdown:
        body = markdown_to_text(body)
    return Loaded(pages=[(None, clean_text(body))], front_matter=fm, warnings=warnings)


def _load_html(path: Path) -> Loaded:
    from bs4 import BeautifulSoup

    warnings: list[str] = []
    html = decode_bytes(path.read_bytes(), path.name, warnings)
    soup = BeautifulSoup(html, "lxml")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "svg", "head"]):
        if tag.name == "head":
            title = tag.find("title")
            title_text = " ".join(title.get_text().split()) if title else None
            tag.decompose()
            soup.attrs["data-title"] = title_text or ""
            continue
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    blocks = ("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "blockquote")
    for el in soup.find_all(blocks):
        el.insert_before("\n\n")
        el.insert_after("\n\n")
    text = soup.get_text()
    return Loaded(pages=[(None, clean_text(text))], html_title=soup.attrs.get("data-title") or None, warnings=warnings)


def _load_pdf(path: Path, settings: Settings) -> Loaded:
    """Text layer per page; pages without one are OCR'd (ingest.ocr) when OCR is on and installed.

    Page numbers are the PDF's own, OCR'd or not; a page OCR reads too poorly is left out and named
    in a warning, and a PDF with nothing readable left is rejected with the reason.
    """
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception:
                ok = 0
            if not ok:
                raise FileRejected(f"{path.name}: encrypted PDF (password protected); decrypt it first")
        pages = []
        for i, page in enumerate(reader.pages, start=1):
            pages.append((i, clean_text(page.extract_text() or "")))
    except FileRejected:
        raise
    except (PdfReadError, ValueError, KeyError, OSError, TypeError, AttributeError) as e:
        raise FileRejected(f"{path.name}: unreadable or corrupt PDF ({type(e).__name__}: {e})"[:300]) from e
    except Exception as e:  # pypdf raises many kinds on damaged files
        raise FileRejected(f"{path.name}: unreadable or corrupt PDF ({type(e).__name__})") from e
    loaded = Loaded(pages=[(n, t) for n, t in pages if t])
    scanned = [n for n, t in pages if not t]
    if not scanned:
        return loaded
    from ingest.ocr import ENABLE_HINT, OcrUnavailable, read_scanned_pages

    where = f"page {scanned[0]}" if len(scanned) == 1 else f"{len(scanned)} pages"
    if not settings.ocr:
        if not loaded.pages:
            raise FileRejected(f"{path.name}: PDF has no text layer (scanned image?) and OCR is off; {ENABLE_HINT}")
        loaded.warnings.append(f"{path.name}: {where} without a text layer not read (OCR is off; {ENABLE_HINT})")
        return loaded
    try:
        scan = read_scanned_pages(path, scanned, settings.ocr_languages, settings.ocr_min_confidence)
    except (OcrUnavailable, RuntimeError) as e:
        if not loaded.pages:
            raise FileRejected(f"{path.name}: PDF has no text layer (scanned image?) and cannot be OCR'd: {e}") from e
        loaded.warnings.append(f"{path.name}: {where} without a text layer not read: {e}")
        return loaded
    loaded.pages = sorted(loaded.pages + [(n, c) for n, t in scan.pages if (c := clean_text(t))])
    loaded.ocr = scan.confidence
    loaded.warnings.extend(scan.warnings)
    if not loaded.pages:
        if scan.poor:
            raise FileRejected(
                f"{path.name}: scanned PDF whose OCR is too poor to ingest: {', '.join(scan.poor)}, below the "
                f"minimum {settings.ocr_min_confidence:g} (CADRES_OCR_MIN_CONFIDENCE); rescan it at 300 dpi"
            )
        raise FileRejected(f"{path.name}: PDF has no text layer and OCR found no text on its {where}")
    return loaded


def load_file(path: Path, settings: Settings | None = None) -> Loaded:
    settings = settings or get_settings()
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise FileRejected(f"{path.name}: unsupported file type {ext or '(none)'}; use .txt, .md, .pdf or .html")
    if ext == ".pdf":
        loaded = _load_pdf(path, settings)
    elif ext in (".html", ".htm"):
        loaded = _load_html(path)
    else:
        loaded = _load_text(path, markdown=ext in (".md", ".markdown"))
    if not any(t.strip() for _, t in loaded.pages):
        raise FileRejected(f"{path.name}: empty file (no text after cleaning)")
    return loaded
