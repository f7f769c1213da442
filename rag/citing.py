"""Citation formatting: author-date labels and a Chicago author-date bibliography."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.models import Citation


def _is_personal(name: str) -> bool:
    words = name.replace(",", " ").split()
    return len(words) >= 2 and all(w[:1].isupper() for w in words if w.isalpha())


def _surname(name: str) -> str:
    name = name.strip()
    if not _is_personal(name):
        return name  # an organisation ("cadres-qa editors") is cited whole
    if "," in name:
        return name.split(",", 1)[0].strip()
    parts = name.split()
    return parts[-1] if parts else name


def author_names(authors: list[str]) -> str:
    """"King and Muminov", "Barshay", "Cathcart, Nash, and Lee" -> "Cathcart et al." for four or more."""
    names = [_surname(a) for a in authors if a.strip()]
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    if len(names) == 3:
        return f"{names[0]}, {names[1]}, and {names[2]}"
    return f"{names[0]} et al."


def author_date(authors: list[str], year: int | None, page: int | None, title: str = "") -> str:
    who = author_names(authors) or (title[:60] if title else "Unknown")
    label = f"{who} {year}" if year else f"{who} n.d."
    return f"{label}, p. {page}" if page else label


def _chicago_authors(authors: list[str]) -> str:
    names = [a.strip() for a in authors if a.strip()]
    if not names:
        return ""
    first = names[0]
    if "," not in first and _is_personal(first):
        parts = first.split()
        first = f"{parts[-1]}, {' '.join(parts[:-1])}"
    rest = names[1:]
    if not rest:
        return first
    return ", ".join([first, *rest[:-1]]) + f", and {rest[-1]}"


def bibliography_entry(c: Citation | dict) -> str:
    """One Chicago author-date reference-list entry."""
    get = c.get if isinstance(c, dict) else lambda k, d=None: getattr(c, k, d)
    authors = get("authors") or []
    who = _chicago_authors(authors) or get("title", "Untitled")
    year = get("year") or "n.d."
    title = get("title", "Untitled")
    container = get("container")
    url = get("url")
    entry = f"{_period(who)} {_period(str(year))} "
    entry += f"\u201c{_period(title)}\u201d *{container}*." if container else f"*{title}*."
    if url:
        entry += f" {url}."
    return entry


def _period(text: str) -> str:
    """A full stop, unless the text already ends with one ("n.d.", "Andrew E.")."""
    return text if text.endswith((".", "?", "!")) else text + "."


def bibliography(citations: Iterable[Citation]) -> list[str]:
    """Sorted, de-duplicated reference list (one entry per document)."""
    seen: dict[str, str] = {}
    for c in citations:
        seen.setdefault(c.doc_id, bibliography_entry(c))
    return sorted(seen.values(), key=str.casefold)
