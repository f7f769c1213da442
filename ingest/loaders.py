"""Read one file into text pages, decoding whatever encoding it arrived in."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ingest.cleaning import clean_text, markdown_to_text
from ingest.errors import FileRejected

SUPPORTED = {".txt", ".md", ".markdown", ".pdf", ".html", ".htm"}


@dataclass
class Loaded:
    pages: list[tuple[int | None, str]]  # (page number or None, cleaned text)
    front_matter: dict = field(default_factory=dict)
    html_title: str | None = None


def decode_bytes(data: bytes, name: str) -> str:
    """BOMs first, then strict UTF-8, then detection; never a silent replacement of bytes."""
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
    if b"\x00" in data[:8192]:
        raise FileRejected(f"{name}: binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise FileRejected(f"{name}: could not detect the text encoding (binary or corrupt file)")
    if best.encoding in _LATIN_SINGLE_BYTE:
        # Detection cannot tell the Western code pages apart on short texts; cp1252 (Windows
        # Western) is by far the most common source of non-UTF-8 text, so it wins when it decodes.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    return str(best)


_LATIN_SINGLE_BYTE = {
    "cp1250", "cp1252", "cp1254", "cp1257", "latin_1", "iso8859_2", "iso8859_4", "iso8859_9", "iso8859_13",
    "iso8859_15", "mac_latin2", "mac_roman", "cp850", "cp437",
}


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
    text = decode_bytes(path.read_bytes(), path.name)
    fm, body = split_front_matter(text.lstrip("\ufeff"), path.name)
    if markdown:
        body = markdown_to_text(body)
    return Loaded(pages=[(None, clean_text(body))], front_matter=fm)


def _load_html(path: Path) -> Loaded:
    from bs4 import BeautifulSoup

    html = decode_bytes(path.read_bytes(), path.name)
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
    return Loaded(pages=[(None, clean_text(text))], html_title=soup.attrs.get("data-title") or None)


def _load_pdf(path: Path) -> Loaded:
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
    if not any(t for _, t in pages):
        raise FileRejected(f"{path.name}: PDF has no text layer (scanned image?); run OCR on it first")
    return Loaded(pages=[(n, t) for n, t in pages if t])


def load_file(path: Path) -> Loaded:
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise FileRejected(f"{path.name}: unsupported file type {ext or '(none)'}; use .txt, .md, .pdf or .html")
    if ext == ".pdf":
        loaded = _load_pdf(path)
    elif ext in (".html", ".htm"):
        loaded = _load_html(path)
    else:
        loaded = _load_text(path, markdown=ext in (".md", ".markdown"))
    if not any(t.strip() for _, t in loaded.pages):
        raise FileRejected(f"{path.name}: empty file (no text after cleaning)")
    return loaded
