"""Safe Markdown for Streamlit: document and model text is always escaped before st.markdown.

Nothing here imports Streamlit, so every helper is unit-testable. The app never passes
unsafe_allow_html; on top of that, every character that Markdown (or Streamlit's Markdown
extensions: colour directives, LaTeX, emoji shortcodes, GFM autolinks) could turn into markup is
backslash-escaped, so an image or link written in a document is shown as text, never rendered.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.models import Answer, Citation

# Characters escaped everywhere. CommonMark allows a backslash before any ASCII punctuation.
MD_SPECIAL = set("\\`*_[]()!<>#|~$:{}&@")
_LINE_START = re.compile(r"^([ \t]*)([-+=])", re.MULTILINE)
_ORDERED = re.compile(r"^([ \t]*\d+)\.", re.MULTILINE)
_WWW = re.compile(r"(?i)\bwww\.")
_MARKER = re.compile(r"\\\[(\d{1,3})\\\]")

# How a quoted sentence is highlighted inside its chunk (Streamlit Markdown directive).
HIGHLIGHT_OPEN = ":orange-background["
HIGHLIGHT_CLOSE = "]"


def escape_md(text: str | None) -> str:
    """Escape `text` so Streamlit's Markdown shows it literally (no HTML, images, links, LaTeX)."""
    if not text:
        return ""
    out = "".join("\\" + ch if ch in MD_SPECIAL else ch for ch in str(text))
    # List markers, setext underlines and ordered-list numbers at the start of a line.
    out = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), out)
    out = _ORDERED.sub(lambda m: m.group(1) + "\\.", out)
    # GFM turns bare "www.example.com" into a link; "http://" is already broken by the escaped colon.
    return _WWW.sub(lambda m: m.group(0)[:-1] + "\\.", out)


def escape_md_inline(text: str | None) -> str:
    """escape_md for one-line contexts (labels, list items): newlines become spaces."""
    return escape_md(" ".join(str(text or "").split()))


def safe_block(text: str | None) -> str:
    """Escaped multi-line text (paragraph breaks kept)."""
    return escape_md(text)


def card_key(turn: int, n: int) -> str:
    """The widget key (and so the CSS class `st-key-…`) of source card [n] of the answer at `turn`."""
    return f"card-{turn}-{n}"


def answer_markdown(text: str | None, turn: int | None = None) -> str:
    """An answer's text, escaped, with its citation markers [n] restored: as links to their source
    cards when `turn` is given (the page's script opens the card and scrolls to it), else styled."""
    if turn is None:
        return _MARKER.sub(lambda m: f":blue[**[{m.group(1)}]**]", safe_block(text))
    return _MARKER.sub(lambda m: f"[**\\[{m.group(1)}\\]**](#{card_key(turn, int(m.group(1)))})", safe_block(text))


def find_quote(chunk: str, quote: str) -> tuple[int, int] | None:
    """Where `quote` stands in `chunk`: exact, else ignoring differences in whitespace."""
    if not quote or not chunk:
        return None
    i = chunk.find(quote)
    if i >= 0:
        return i, i + len(quote)
    words = quote.split()
    if not words:
        return None
    m = re.search(r"\s+".join(re.escape(w) for w in words), chunk)
    return (m.start(), m.end()) if m else None


def highlight_markdown(chunk: str | None, quote: str | None) -> str:
    """The chunk as escaped Markdown with the quoted sentence highlighted (or the chunk alone)."""
    chunk = chunk or ""
    span = find_quote(chunk, quote or "")
    if span is None:
        return safe_block(chunk)
    a, b = span
    before, inner, after = chunk[:a], chunk[a:b], chunk[b:]
    inner_md = escape_md(" ".join(inner.split()))
    # A directive must not be glued to a preceding word character.
    sep = "" if not before or before[-1].isspace() else " "
    return f"{safe_block(before)}{sep}{HIGHLIGHT_OPEN}{inner_md}{HIGHLIGHT_CLOSE}{safe_block(after)}"


def highlight_all_markdown(chunk: str | None, quotes: list[str]) -> str:
    """The chunk as escaped Markdown with every quoted sentence highlighted, in text order."""
    chunk = chunk or ""
    spans = sorted(s for s in (find_quote(chunk, q) for q in dict.fromkeys(quotes) if q) if s)
    out, pos = [], 0
    for a, b in spans:
        if a < pos:  # overlapping quotes: one highlight
            continue
        before = chunk[pos:a]
        sep = "" if not before or before[-1].isspace() else " "
        out.append(f"{safe_block(before)}{sep}{HIGHLIGHT_OPEN}{escape_md(' '.join(chunk[a:b].split()))}{HIGHLIGHT_CLOSE}")
        pos = b
    out.append(safe_block(chunk[pos:]))
    return "".join(out)


def ocr_mark(c: Citation) -> str:
    """The " · OCR" shown after the label of a citation read by OCR from a scan (it may hold misreadings)."""
    return " \u00b7 OCR" if c.ocr else ""


def source_label(c: Citation) -> str:
    """Plain text "[n] King and Muminov 2022, p. 203 — Title" (escape before rendering)."""
    return f"[{c.n}] {c.label}{ocr_mark(c)} \u2014 {c.title}"


def source_label_markdown(c: Citation) -> str:
    return f"\\[{c.n}\\] {escape_md_inline(c.label)}{ocr_mark(c)} \u2014 {escape_md_inline(c.title)}"


def citation_details_markdown(c: Citation) -> str:
    """Bibliographic fields of a citation as an escaped Markdown list."""
    rows = [
        ("Title", c.title),
        ("Authors", ", ".join(c.authors) if c.authors else None),
        ("Year", str(c.year) if c.year else None),
        ("Published in", c.container),
        ("Page", str(c.page) if c.page else None),
        ("Document", c.doc_id),
    ]
    lines = [f"- **{k}:** {escape_md_inline(v)}" for k, v in rows if v]
    if c.url:
        # Spelled out, not a link: the address comes from document metadata.
        lines.append(f"- **Address:** `{c.url.replace('`', '')}`")
    return "\n".join(lines)


REFUSAL_TAIL = " The closest sources are: "


def refusal_text(answer: Answer) -> str:
    """The refusal sentence without the inline list of closest sources (shown as a list instead)."""
    text = answer.answer or "The corpus does not answer this question."
    if answer.closest_sources and REFUSAL_TAIL in text:
        text = text.split(REFUSAL_TAIL, 1)[0]
    return text


def format_timestamp(ts: float | None) -> str:
    if not ts:
        return "never"
    try:
        return datetime.fromtimestamp(float(ts)).strftime("%Y-%m-%d %H:%M")
    except (ValueError, OSError, OverflowError):
        return "unknown"


def model_name(path_or_name: str | None) -> str:
    """A readable embedding-model name: the packaged MiniLM path shows as its model name."""
    s = str(path_or_name or "")
    if "minilm" in s.lower() and ("/" in s or "\\" in s):
        return "all-MiniLM-L6-v2 (local)"
    return s.rstrip("/").rsplit("/", 1)[-1] or "unknown"


def filter_note(filters: dict | None) -> str:
    """"Filter active: only 2 documents, years 1950–1956" (plain text; escape before rendering)."""
    if not filters:
        return ""
    bits = []
    if filters.get("doc_ids"):
        n = len(filters["doc_ids"])
        bits.append(f"only {n} document{'s' if n > 1 else ''}")
    if filters.get("year_min") or filters.get("year_max"):
        bits.append(f"years {filters.get('year_min', '')}\u2013{filters.get('year_max', '')}")
    return "Filter active: " + ", ".join(bits) if bits else ""
