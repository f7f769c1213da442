"""Citation formatting: author-date labels and Chicago author-date (17th ed.) reference-list entries."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal, Protocol
from urllib.parse import quote, urlsplit, urlunsplit

from rag.safety import plain_text


class Cited(Protocol):
    """What a reference is made from: a Citation or a DocumentMeta of rag.models, or anything with
    their fields (read by name, so this module needs nothing from rag.models: models imports it)."""

    doc_id: str
    authors: list[str]
    title: str
    year: int | None

Style = Literal["markdown", "plain"]

# Words that mark an author as an organisation, cited whole and never inverted ("United Nations").
_ORG_WORDS = frozenset({
    "academy", "administration", "agency", "archive", "archives", "army", "association", "board",
    "bureau", "center", "centre", "college", "commission", "committee", "company", "corporation",
    "council", "cross", "department", "editors", "federation", "foundation", "government", "group",
    "inc", "institute", "institution", "league", "library", "ltd", "ministry", "museum", "nations",
    "network", "office", "organisation", "organization", "party", "press", "project", "school",
    "service", "society", "staff", "team", "union", "university",
})
# Lower-case name particles that still belong to a personal name ("Ludwig van Beethoven").
_PARTICLES = frozenset({"al", "bin", "da", "de", "del", "della", "der", "di", "du", "la", "le", "ten", "ter", "van", "von"})
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})
MAX_LISTED_AUTHORS = 10  # Chicago 15.9: up to ten are listed; beyond that, the first seven and "et al."
LISTED_BEFORE_ET_AL = 7


def _is_personal(name: str) -> bool:
    words = name.replace(",", " ").split()
    if len(words) < 2 or any(w.casefold().strip(".") in _ORG_WORDS for w in words):
        return False
    if any(ch.isdigit() for ch in name):
        return False
    return all(w[:1].isupper() or w in _PARTICLES for w in words if w.isalpha())


def _surname(name: str) -> str:
    name = name.strip()
    if not _is_personal(name):
        return name  # an organisation ("cadres-qa editors") is cited whole
    if "," in name:
        return name.split(",", 1)[0].strip()
    parts = [p for p in name.split() if p.casefold() not in _SUFFIXES]
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


# ------------------------------------------------------------------ links


def safe_url(url: str | None) -> str | None:
    """The address as a link that may be shown to a reader, or None.

    Document metadata is untrusted: only http(s) with a host goes through (no javascript:, data:,
    file:, relative or protocol-relative addresses, no user:password@ that disguises the host), and
    characters that could end a Markdown link or an HTML attribute are percent-encoded.
    """
    if not isinstance(url, str):
        return None
    u = url.strip()
    if not u or "\\" in u or any(ord(ch) < 32 or ord(ch) == 127 for ch in u):
        return None
    try:
        parts = urlsplit(u)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    host = parts.hostname
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if not re.fullmatch(r"[a-z0-9.-]+|[0-9a-f:.]+", host):
        return None
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    keep = "/%:@!&'()+,;=-._~"  # RFC 3986 path characters, less "*" and "$" that Markdown acts on
    return urlunsplit(
        (
            parts.scheme.lower(),
            netloc,
            quote(parts.path, safe=keep),
            quote(parts.query, safe=keep + "?"),
            quote(parts.fragment, safe=keep + "?#"),
        )
    )


def doi_url(doi: str | None) -> str | None:
    """"10.1162/jcws_a_01083", "doi:10.…" or a doi.org address -> "https://doi.org/10.…" (None if not a DOI)."""
    if not isinstance(doi, str):
        return None
    d = re.sub(r"^\s*(?:doi:\s*|https?://(?:dx\.)?doi\.org/)", "", doi.strip(), flags=re.I)
    if not re.match(r"10\.\d{4,9}/\S", d):
        return None
    return safe_url("https://doi.org/" + quote(d, safe="/:;()._-"))


# ------------------------------------------------------------------ reference-list entries

_MD_ESCAPE = set("\\`*_[]<>~|$@")


def _md(text: str) -> str:
    """Document-supplied text made literal in any Markdown viewer, so the entry's only link is its URL."""
    out = "".join("\\" + ch if ch in _MD_ESCAPE else ch for ch in text)
    out = re.sub(r"(?<=[A-Za-z]):(?=//)", r"\\:", out)  # "https://" inside a title is no autolink
    return re.sub(r"(?i)\bwww\.", lambda m: m.group(0)[:-1] + "\\.", out)


def _clean(value: Any) -> str:
    """One line of plain text: tags dropped, links spelled out, whitespace collapsed."""
    if value is None:
        return ""
    return " ".join(plain_text(str(value)).split())


def _period(text: str) -> str:
    """A full stop, unless the text already ends with one ("n.d.", "Andrew E.", "Why?")."""
    return text if text.endswith((".", "?", "!")) else text + "."


def _invert(name: str) -> str:
    """"Amy King" -> "King, Amy"; "Martin Luther King Jr." -> "King, Martin Luther, Jr."; organisations as given."""
    if "," in name or not _is_personal(name):
        return name
    parts = name.split()
    suffix = parts.pop() if parts[-1].casefold() in _SUFFIXES and len(parts) > 2 else None
    inverted = f"{parts[-1]}, {' '.join(parts[:-1])}"
    return f"{inverted}, {suffix}" if suffix else inverted


def _uninvert(name: str) -> str:
    """Later authors stand given name first: "Muminov, Sherzod" -> "Sherzod Muminov"."""
    if name.count(",") == 1 and _is_personal(name):
        surname, given = (p.strip() for p in name.split(","))
        return f"{given} {surname}" if given else surname
    return name


def _chicago_authors(authors: list[str]) -> str:
    """Chicago 15.9: the first author inverted; up to ten listed, more than ten: the first seven, et al."""
    names = [n for n in (_clean(a) for a in authors) if n]
    if not names:
        return ""
    first = _invert(names[0])
    if len(names) == 1:
        return first
    if len(names) > MAX_LISTED_AUTHORS:
        return ", ".join([first, *(_uninvert(n) for n in names[1:LISTED_BEFORE_ET_AL])]) + ", et al."
    rest = [_uninvert(n) for n in names[1:]]
    if len(names) == 2:
        # The comma before "and" closes an inverted name ("King, Amy, and …"); "editors and …" needs none.
        return f"{first}{',' if ',' in first else ''} and {rest[0]}"
    return ", ".join([first, *rest[:-1]]) + f", and {rest[-1]}"


def _kind(source_type: str | None, container: str | None) -> str:
    """Which Chicago pattern a source follows, from the free-text `source_type` of its metadata.

    Ingest writes "PDF document", "web page" or "document" by default; sidecars and front matter say
    what they like ("journal article (abstract)", "background notes", "book chapter", "report").
    A source of no recognised type reads like an article in its container, or a book without one.
    """
    st = (source_type or "").casefold()

    def has(*words: str) -> bool:
        return any(w in st for w in words)

    if has("chapter", "section", "incollection", "inbook", "contribution", "proceedings", "conference"):
        return "chapter"
    if has("web", "html", "blog", "online", "site", "wiki"):
        return "web"
    if has("thesis", "dissertation"):
        return "thesis"
    if has("report", "working paper", "white paper", "policy brief"):
        return "report"
    if has("article", "journal", "magazine", "newspaper", "review"):
        return "article"
    if has("book", "monograph"):
        return "book"
    return "article" if container else "book"


def _pages(value: Any) -> str:
    """A page range with the en dash Chicago uses: "200-230" -> "200–230"."""
    return re.sub(r"(?<=\w)\s*(?:--|[-\u2010\u2011\u2012\u2014])\s*(?=\w)", "\u2013", _clean(value))


def _number(value: Any) -> str:
    """A volume or issue without its label: "Vol. 24" -> "24", "no. 3" -> "3"."""
    return re.sub(r"(?i)^(?:vol(?:ume)?|no|nr|num(?:ber)?|iss(?:ue)?)\.?\s*", "", _clean(value))


def _field(c: Any, key: str) -> Any:
    return c.get(key) if isinstance(c, Mapping) else getattr(c, key, None)


def reference(
    c: Cited | Mapping[str, Any], style: Style = "markdown", *, with_url: bool = True
) -> str:
    """The full Chicago author-date reference-list entry for one source.

    King, Amy, and Sherzod Muminov. 2022. “Japan Still Has Cadres Remaining: …” *Journal of Cold War
    Studies* 24 (3): 200–230. https://doi.org/…

    Missing fields are left out with their punctuation; a source without authors leads with its
    title, as its in-text label does (author_date), so reader and list agree. `style="markdown"`
    italicises titles and escapes every document-supplied character Markdown could act on, so the
    entry's only link is its DOI or URL, and that only if safe_url passes it; `style="plain"` is the
    same text without any markup (escape it for the medium it goes into). `with_url=False` leaves the
    address out, for a caller that shows it as a button of its own.
    """
    md = style == "markdown"
    esc = _md if md else (lambda s: s)

    def it(s: str) -> str:
        return f"*{esc(s)}*" if md else s

    def quoted(s: str) -> str:
        s = s.replace("\u201c", "\u2018").replace("\u201d", "\u2019").replace('"', "'")
        return f"\u201c{esc(_period(s))}\u201d"

    raw_authors = _field(c, "authors") or []
    if isinstance(raw_authors, str):
        raw_authors = raw_authors.split(";")
    title = _clean(_field(c, "title")) or "Untitled"
    container = _clean(_field(c, "container"))
    volume, issue = _number(_field(c, "volume")), _number(_field(c, "issue"))
    pages = _pages(_field(c, "pages"))
    year = _field(c, "year")
    kind = _kind(_field(c, "source_type"), container)

    authors = _chicago_authors(list(raw_authors))
    parts = [_period(esc(authors or title)), f"{year}." if year else "n.d."]
    if authors:  # without authors the title already leads
        parts.append(_period(it(title)) if kind in ("book", "report") else quoted(title))

    if kind == "article" and container:
        where = it(container)
        if volume:
            where += f" {esc(volume)}" + (f" ({esc(issue)})" if issue else "")
        elif issue:
            where += f", no. {esc(issue)}"
        if pages:
            where += (": " if volume or issue else ", ") + esc(pages)
        parts.append(_period(where))
    elif kind == "chapter" and container:
        parts.append(_period(f"In {it(container)}" + (f", {esc(pages)}" if pages else "")))
    elif kind == "thesis":
        degree = "PhD diss." if re.search(r"(?i)phd|doctor|dissertation", str(_field(c, "source_type"))) else "Thesis"
        parts.append(_period(f"{degree}, {esc(container)}" if container else degree))
    elif container and container.casefold() != title.casefold():
        parts.append(_period(esc(container)))  # a website, an institution or a series: set roman

    if with_url:
        link = doi_url(_field(c, "doi")) or safe_url(_field(c, "url"))
        if link:
            parts.append(f"{link}.")
    entry = " ".join(parts)
    if md:  # an entry is one list line: it must not open a heading, a quote, a list or a table
        entry = re.sub(r"^([#>+=-])", r"\\\1", entry)
        entry = re.sub(r"^(\d+)([.)])", r"\1\\\2", entry)
    return entry


def bibliography_entry(c: Cited | Mapping[str, Any]) -> str:
    """One Chicago author-date reference-list entry (Markdown)."""
    return reference(c, "markdown")


def bibliography(citations: Iterable[Cited], style: Style = "markdown") -> list[str]:
    """Sorted, de-duplicated reference list (one entry per document)."""
    seen: dict[str, str] = {}
    for c in citations:
        seen.setdefault(c.doc_id, reference(c, style))
    return sorted(seen.values(), key=_sort_key)


def _sort_key(entry: str) -> str:
    """Alphabetical by the first word, ignoring the markup and quote marks that may lead an entry."""
    return re.sub(r"^[\W_]+", "", entry.replace("\\", "")).casefold()
