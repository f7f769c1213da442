"""The page behind a PDF citation: rendered to a PNG with the quoted sentences highlighted.

pypdfium2 (PDFium; Apache-2.0/BSD) renders the page and gives each character's box; PyMuPDF's AGPL
does not fit. No Streamlit here, and pypdfium2 and Pillow are imported only when a page is asked
for, so importing this module costs nothing.

Quotes come from ingest's cleaned text (pypdf's reading: whitespace collapsed, line-break hyphens
and soft hyphens removed, NFC, footnote numbers dropped), not from PDFium's text. Both are compared
as letters and digits only, lower-cased under NFKC (ligatures spelled out); each kept letter maps
back to its PDFium character, whose box is what gets highlighted. Ingest splits sentences per page,
so a sentence that runs onto the next page reaches the answer as its first part only; the next page
then highlights the rest of that sentence, up to its full stop.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HIGHLIGHT_RGB = (255, 196, 0)  # amber; on white paper the highlighted area is exactly this colour
RENDER_VERSION = 1  # part of the cache key: bump when the drawing changes
MIN_WIDTH_PX, MAX_WIDTH_PX = 100, 4000
MAX_HEIGHT_FACTOR = 4  # an image at most this many times as tall as it is wide
MAX_CACHED_PAGES = 500  # oldest images beyond this are deleted, so the data dir does not grow forever
PAD_PX = 2  # the highlight reaches a little past the glyphs' boxes

# Matching, in normalised characters (letters and digits).
_GAP = 12  # what may sit inside a quote on the page and not in the quote (a footnote number, a lost glyph)
_EDGE = 60  # a running head or page number between a split quote and the page's top or bottom
_MIN_PART = 8  # the shortest piece of a split quote recognised at the top or bottom of a page
_MIN_FREE_PART = 24  # the shortest piece recognised anywhere else on the page (and half the quote)
_FULL = 0.9  # share of a quote's characters that makes it found whole
_MAX_CONTINUATION = 600  # characters of the next page highlighted as a sentence's rest, at most

# PDFium is not thread-safe, and Streamlit serves each browser session from its own thread.
_PDFIUM_LOCK = threading.Lock()


class PageRenderError(Exception):
    """A page could not be shown: missing, unreadable or protected file, page out of range, unwritable cache."""

    def __init__(self, message: str, path: Path | None = None, page: int | None = None):
        super().__init__(message)
        self.path, self.page = path, page


@dataclass
class PageImage:
    """A rendered page, ready for st.image(str(path))."""

    path: Path  # the PNG, in the cache dir
    page: int  # 1-based, as citations store it
    found: list[str] = field(default_factory=list)  # quotes highlighted on this page, whole or in part
    width: int = 0
    height: int = 0
    cached: bool = False  # served from the cache without rendering


def default_cache_dir(data_dir: Path) -> Path:
    """Where rendered pages live under the data dir (beside the store, never inside the corpus)."""
    return Path(data_dir) / "page-cache"


# ------------------------------------------------------------------ public API


def render_page(
    pdf_path: Path, page: int, quotes: list[str], cache_dir: Path, width_px: int = 900
) -> PageImage:
    """Page `page` (1-based) of the PDF as a PNG `width_px` wide, each quote found on it highlighted.

    The image is cached in `cache_dir` under the file's path, size and mtime, the page, the width and
    the quotes: a second call returns the PNG without opening the PDF. Raises PageRenderError.
    """
    pdf_path = Path(pdf_path)
    if not MIN_WIDTH_PX <= width_px <= MAX_WIDTH_PX:
        raise ValueError(f"width_px must be {MIN_WIDTH_PX}-{MAX_WIDTH_PX}, got {width_px}")
    quotes = [q for q in quotes if q and q.strip()]
    stat = _stat(pdf_path, page)
    cache_dir = Path(cache_dir)
    png = cache_dir / _cache_name(pdf_path, stat, page, width_px, quotes)
    hit = _from_cache(png, page)
    if hit is not None:
        return hit
    with _PDFIUM_LOCK:
        image, found = _render(pdf_path, page, quotes, width_px)
    out = PageImage(path=png, page=page, found=found, width=image.width, height=image.height)
    _store(image, out)
    return out


def pages_for_quote(pdf_path: Path, page: int, quote: str) -> list[int]:
    """The pages to show for a quote cited on `page`: that page, and the next one when the quote's
    sentence starts at the bottom of `page` and goes on at the top of `page + 1`.

    Both forms of such a quote are recognised: the whole sentence (its start ends this page, its rest
    opens the next), and the first part alone, as ingest stores it (found at the bottom of the page
    with no full stop). Raises PageRenderError.
    """
    pdf_path = Path(pdf_path)
    _stat(pdf_path, page)
    quote = _quote_text(quote)
    key = _key(quote)
    if not key:
        return [page]
    import pypdfium2 as pdfium

    with _PDFIUM_LOCK:
        doc = _open(pdf_path, page)
        try:
            if page >= len(doc):
                return [page]
            here = _page_text(doc, page)
            hits = _locate(here, key)
            if not hits:
                return [page]
            last = hits[-1]
            nxt = _page_text(doc, page + 1)
            if last.q_to < len(key) - _GAP:  # the quote's start only is here: is the rest at the top of the next?
                rest = [h for h in _locate(nxt, key) if abs(h.q_from - last.q_to) <= _GAP]
                return [page, page + 1] if rest else [page]
            if _unfinished(quote) and _at_bottom(here, last) and _continuation(nxt) is not None:
                return [page, page + 1]
            return [page]
        except pdfium.PdfiumError as e:
            raise PageRenderError(f"{pdf_path.name}: cannot read the text of page {page} ({e})", pdf_path, page) from e
        finally:
            doc.close()


# ------------------------------------------------------------------ matching


@dataclass
class _PageText:
    textpage: Any  # PDFium's text page, alive while its document is open
    chars: str  # one character per PDFium character index
    key: str  # letters and digits only, lower case, NFKC: what quotes are matched on
    key_to_char: list[int]  # for each key character, the PDFium character it came from


@dataclass
class _Hit:
    start: int  # PDFium character range on the page, end exclusive
    end: int
    q_from: int  # the part of the quote's key it covers
    q_to: int
    k_from: int  # and where that part stands in the page's key
    k_to: int


# A page number that ingest read into a quote, on a line of its own at its end or start (the
# folio under the last line of a page, or over the first): part of the page, not of the sentence.
_FOLIO = re.compile(r"\s*\n\s*\d{1,4}\s*$|^\s*\d{1,4}\s*\n\s*")


def _quote_text(quote: str) -> str:
    return _FOLIO.sub("", quote)


def _key(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).lower() if ch.isalnum())


def _page_text(doc: Any, page: int) -> _PageText:
    return _read_text(doc[page - 1].get_textpage())


def _read_text(textpage: Any) -> _PageText:
    import pypdfium2.raw as pdfium_c

    chars: list[str] = []
    key: list[str] = []
    key_to_char: list[int] = []
    for i in range(textpage.count_chars()):
        u = pdfium_c.FPDFText_GetUnicode(textpage, i)
        ch = chr(u) if 0 < u < 0x110000 and not 0xD800 <= u < 0xE000 else " "
        chars.append(" " if ch == "\r" else ch)  # keeps "\n" for sentence splitting, one char an index
        for k in unicodedata.normalize("NFKC", ch).lower():
            if k.isalnum():
                key.append(k)
                key_to_char.append(i)
    return _PageText(textpage, "".join(chars), "".join(key), key_to_char)


def _hit(pt: _PageText, k_from: int, k_to: int, q_from: int, q_to: int) -> _Hit:
    return _Hit(pt.key_to_char[k_from], pt.key_to_char[k_to - 1] + 1, q_from, q_to, k_from, k_to)


def _locate(pt: _PageText, qkey: str) -> list[_Hit]:
    """Where a quote (as a key) stands on the page: every exact occurrence, else the best near match
    (a few characters differing), else its first or last part at the bottom or top of the page."""
    if not qkey or not pt.key:
        return []
    hits, i = [], pt.key.find(qkey)
    while i >= 0:
        hits.append(_hit(pt, i, i + len(qkey), 0, len(qkey)))
        i = pt.key.find(qkey, i + len(qkey))
    if hits:
        return hits
    from difflib import SequenceMatcher

    min_block = min(6, len(qkey))
    blocks = [b for b in SequenceMatcher(None, qkey, pt.key, autojunk=False).get_matching_blocks() if b.size >= min_block]
    chains: list[list] = []
    for b in blocks:  # monotone in both strings; a chain allows only small gaps on either side
        prev = chains[-1][-1] if chains else None
        if prev and b.a - (prev.a + prev.size) <= _GAP and b.b - (prev.b + prev.size) <= _GAP:
            chains[-1].append(b)
        else:
            chains.append([b])
    best = None
    for chain in chains:
        covered = sum(b.size for b in chain)
        q_from, q_to = chain[0].a, chain[-1].a + chain[-1].size
        k_from, k_to = chain[0].b, chain[-1].b + chain[-1].size
        whole = covered >= _FULL * len(qkey)
        free = covered >= max(_MIN_FREE_PART, len(qkey) / 2)  # a piece this long is no chance likeness
        head = q_from <= _GAP and (free or (covered >= _MIN_PART and len(pt.key) - k_to <= _EDGE))
        tail = q_to >= len(qkey) - _GAP and (free or (covered >= _MIN_PART and k_from <= _EDGE))
        if (whole or head or tail) and (best is None or covered > best[0]):
            best = (covered, _hit(pt, k_from, k_to, q_from, q_to))
    return [best[1]] if best else []


_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*$")


def _unfinished(quote: str) -> bool:
    """A quote without a sentence-final mark: ingest cut it at the page's end."""
    return not _SENTENCE_END.search(quote.rstrip())


def _at_bottom(pt: _PageText, hit: _Hit) -> bool:
    return len(pt.key) - hit.k_to <= _EDGE


def _body_start(pt: _PageText) -> int:
    """Where the page's running text begins: past up to two opening lines that are a page number or a
    running head (a short line without a full stop, set in another size than the page's text, or
    followed by a line that goes on in lower case, the middle of a sentence)."""
    import pypdfium2.raw as pdfium_c

    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", pt.chars) if m.group(0).strip()]
    if not lines:
        return len(pt.chars)

    def size(a: int, b: int) -> float:
        sizes = [round(pdfium_c.FPDFText_GetFontSize(pt.textpage, i), 1) for i in range(a, b) if not pt.chars[i].isspace()]
        return max(set(sizes), key=sizes.count) if sizes else 0.0

    body_size = size(0, len(pt.chars))
    skip = 0
    while skip < min(2, len(lines) - 1):
        text = pt.chars[slice(*lines[skip])].strip()
        page_number = re.fullmatch(r"[-\u2013\u2014 ]*(\d+|[ivxlc]+|[IVXLC]+)[-\u2013\u2014 .]*", text)
        head = len(text) < 80 and not re.search(r"[.!?]$", text) and (
            abs(size(*lines[skip]) - body_size) > 0.5 or pt.chars[lines[skip + 1][0] : lines[skip + 1][1]].lstrip()[:1].islower()
        )
        if not (page_number or head):
            break
        skip += 1
    start, end = lines[skip]
    text = pt.chars[start:end]
    return start + len(text) - len(text.lstrip())


def _continuation(pt: _PageText) -> tuple[int, int] | None:
    """The character range of the sentence that opens the page (the rest of one cut at the last page)."""
    from rag.text import split_sentences

    body = _body_start(pt)
    spans = split_sentences(pt.chars[body : body + _MAX_CONTINUATION * 2])
    if not spans:
        return None
    s = spans[0]
    return body + s.start, body + min(s.end, s.start + _MAX_CONTINUATION)


# ------------------------------------------------------------------ rendering


def _stat(pdf_path: Path, page: int) -> os.stat_result:
    if not isinstance(page, int) or isinstance(page, bool) or page < 1:
        raise PageRenderError(f"{pdf_path.name}: page {page!r} is not a page number (pages count from 1)", pdf_path, page)
    try:
        return pdf_path.stat()
    except OSError as e:
        raise PageRenderError(f"{pdf_path.name}: cannot read the PDF for page {page} ({e.strerror or e})", pdf_path, page) from e


def _open(pdf_path: Path, page: int) -> Any:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(pdf_path)
    except (pdfium.PdfiumError, OSError) as e:
        raise PageRenderError(f"{pdf_path.name}: cannot open the PDF to show page {page} ({e})", pdf_path, page) from e
    if page > len(doc):
        n = len(doc)
        doc.close()
        raise PageRenderError(f"{pdf_path.name}: no page {page}; the PDF has {n} page(s)", pdf_path, page)
    return doc


def _render(pdf_path: Path, page: int, quotes: list[str], width_px: int) -> tuple[Any, list[str]]:
    """The page as an RGB image with the quotes highlighted, and the quotes that were found."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageChops, ImageDraw

    doc = _open(pdf_path, page)
    try:
        pg = doc[page - 1]
        textpage = pg.get_textpage()
        pt = _read_text(textpage)
        prev: _PageText | None = None
        ranges: list[tuple[int, int]] = []
        found: list[str] = []
        for q in quotes:
            text = _quote_text(q)
            key = _key(text)
            spans = [(h.start, h.end) for h in _locate(pt, key)]
            if not spans and page > 1 and _unfinished(text):
                prev = prev or _page_text(doc, page - 1)
                if any(_at_bottom(prev, h) and h.q_to >= len(key) - _GAP for h in _locate(prev, key)):
                    rest = _continuation(pt)
                    spans = [rest] if rest else []
            if spans:
                found.append(q)
                ranges.extend(spans)
        w, h = pg.get_size()
        # A freak page shape (a scroll, a strip) must not make a giant image.
        # Just under the exact scale: the bitmap's size is rounded up, and must come out width_px wide.
        bitmap = pg.render(scale=min((width_px - 0.01) / w, (MAX_HEIGHT_FACTOR * width_px - 0.01) / h))
        conv = bitmap.get_posconv(pg)
        boxes = []
        for start, end in ranges:
            for i in range(textpage.count_rects(start, end - start)):
                left, bottom, right, top = textpage.get_rect(i)
                corners = [conv.to_bitmap(x, y) for x in (left, right) for y in (bottom, top)]
                xs, ys = [c[0] for c in corners], [c[1] for c in corners]
                boxes.append((min(xs) - PAD_PX, min(ys) - PAD_PX, max(xs) + PAD_PX, max(ys) + PAD_PX))
        image = bitmap.to_pil().convert("RGB")
    except pdfium.PdfiumError as e:
        raise PageRenderError(f"{pdf_path.name}: cannot render page {page} ({e})", pdf_path, page) from e
    finally:
        doc.close()
    if boxes:
        # A highlighter, not paint: multiplying keeps dark glyphs dark, so the text stays readable.
        marker = Image.new("RGB", image.size, (255, 255, 255))
        draw = ImageDraw.Draw(marker)
        for box in boxes:
            draw.rectangle(box, fill=HIGHLIGHT_RGB)
        image = ImageChops.multiply(image, marker)
    return image, found


# ------------------------------------------------------------------ cache


def _cache_name(pdf_path: Path, stat: os.stat_result, page: int, width_px: int, quotes: list[str]) -> str:
    ident = [RENDER_VERSION, str(pdf_path.resolve()), stat.st_size, stat.st_mtime_ns, page, width_px, quotes]
    digest = hashlib.sha256(json.dumps(ident, ensure_ascii=False).encode("utf-8")).hexdigest()[:32]
    stem = re.sub(r"[^A-Za-z0-9]+", "-", pdf_path.stem).strip("-")[:40] or "pdf"
    return f"{stem}-p{page}-{width_px}-{digest}.png"


def _from_cache(png: Path, page: int) -> PageImage | None:
    try:
        meta = json.loads(png.with_suffix(".json").read_text(encoding="utf-8"))
        if not png.is_file():
            return None
        return PageImage(png, page, list(meta["found"]), int(meta["width"]), int(meta["height"]), cached=True)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(image: Any, out: PageImage) -> None:
    """PNG, then its sidecar, each written whole: a reader sees a complete entry or none."""
    meta = {"page": out.page, "found": out.found, "width": out.width, "height": out.height}
    tag = f".{os.getpid()}-{threading.get_ident()}.tmp"
    tmp = out.path.with_name(out.path.name + tag)
    try:
        out.path.parent.mkdir(parents=True, exist_ok=True)
        image.save(tmp, "PNG", compress_level=3)  # measured: faster and smaller than the default 6 on text pages
        os.replace(tmp, out.path)
        side = out.path.with_suffix(".json")
        tmp = side.with_name(side.name + tag)
        tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, side)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise PageRenderError(
            f"cannot write the image of page {out.page} to {out.path.parent} ({e.strerror or e})", out.path, out.page
        ) from e
    _prune(out.path.parent, keep=out.path)


def _prune(cache_dir: Path, keep: Path) -> None:
    try:
        pngs = sorted(cache_dir.glob("*.png"), key=lambda p: p.stat().st_mtime)
    except OSError:
        return
    for old in pngs[: max(0, len(pngs) - MAX_CACHED_PAGES)]:
        if old != keep:
            for p in (old.with_suffix(".json"), old):
                with contextlib.suppress(OSError):
                    p.unlink()
