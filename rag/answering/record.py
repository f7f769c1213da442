"""Questions about a document's own record: who wrote it, where and when it was published.

"Who wrote the article?" cannot be answered from sentences: a paper rarely names its authors in
its prose, and the passages that do name authors are often about other works ("The 2013 article
is attributed to David Wolff"). The answer is in the document's bibliographic record, which every
chunk carries and every citation shows. Such a question is answered from the record only when it
names the document: by its title's words, by an author's surname, or as "the article" / "the
report" when exactly one document of that kind is in question. Otherwise the sentence answerer goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag import naming
from rag.models import DocumentMeta
from rag.text import lexical_tokens

_AUTHORS_Q = re.compile(
    r"\bwho\s+(wrote|authored|co-?authored|penned|edited)\b|\b(authors?|writers?|editors?)\s+of\b"
    r"|\b(written|authored|edited)\s+by\s+whom\b|^\W*by\s+whom\b|\bwho\s+(is|are|was|were)\s+(its|their)\s+authors?\b",
    re.I,
)
_CONTAINER_Q = re.compile(
    r"\b(which|what)\s+(journal|periodical|magazine|newspaper|series|press|publisher|venue|proceedings)\b"
    r"|\bwhere\s+(was|were|is|did)\b.*\b(published|appear|appeared|printed)\b",
    re.I,
)
_YEAR_Q = re.compile(
    r"\b(when|what\s+year|which\s+year)\b.*\b(published|written|issued|released|appear|appeared|come\s+out|came\s+out)\b",
    re.I,
)


@dataclass(frozen=True)
class RecordAsk:
    field: str  # "authors", "container" or "year"
    kind: str | None  # "article" in "Who wrote the article?"


def record_question(question: str) -> RecordAsk | None:
    """Which field of a document's record the question asks for, if any."""
    field = (
        "authors" if _AUTHORS_Q.search(question)
        else "container" if _CONTAINER_Q.search(question)
        else "year" if _YEAR_Q.search(question)
        else None
    )
    if field is None:
        return None
    return RecordAsk(field, naming.kind_asked(question))


def _title_named(question_tokens: set[str], meta: DocumentMeta) -> bool:
    """The question holds most words of the title's main part ("Japan Still Has Cadres Remaining")."""
    main = re.split(r"[:\u2013\u2014]", meta.title, maxsplit=1)[0]
    words = set(lexical_tokens(main))
    return len(words) >= 2 and len(words & question_tokens) >= max(2, 0.75 * len(words))


def _titled_by_subject(meta: DocumentMeta) -> bool:
    """An encyclopedia entry's title names its subject, not the document: "When was Harry Potter
    and the Philosopher's Stone published?" asks about the book, not about the entry."""
    return bool(re.search(r"encyclop|wiki", f"{meta.source_type} {meta.container or ''}", re.I))


def _author_named(question: str, meta: DocumentMeta) -> bool:
    words = naming.capitalised_words(question)
    return any(naming.surname(a) in words for a in meta.authors if naming.surname(a))


def pick_document(question: str, ask: RecordAsk, ranked: list[DocumentMeta], corpus: list[DocumentMeta]) -> DocumentMeta | None:
    """The one document the question names: `ranked` are the retrieved passages' documents, best
    first; `corpus` every document. None when no document, or more than one, fits."""
    tokens = set(lexical_tokens(question))
    docs = {d.doc_id: d for d in [*ranked, *corpus]}.values()
    by_title = [d for d in docs if _title_named(tokens, d) and not _titled_by_subject(d)]
    if by_title:
        return _one(by_title, ranked)
    # Asking who wrote it, the authors are not what names it.
    named = [] if ask.field == "authors" else [d for d in docs if _author_named(question, d)]
    if ask.kind:
        of_kind = [d for d in (named or docs) if naming.kind_of(d.source_type) == ask.kind]
        return _one(of_kind, ranked) if of_kind else None
    return _one(named, ranked) if named else None


def _one(candidates: list[DocumentMeta], ranked: list[DocumentMeta]) -> DocumentMeta | None:
    """The only candidate, or of several the one whose passages retrieval ranked first of all."""
    if len(candidates) == 1:
        return candidates[0]
    top = ranked[0].doc_id if ranked else None
    return next((d for d in candidates if d.doc_id == top), None)


def _names(authors: list[str]) -> str:
    names = [" ".join(str(a).split()) for a in authors if str(a).strip()]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def statement(ask: RecordAsk, meta: DocumentMeta) -> str | None:
    """The record's answer as a sentence, without its citation marker; None when the record lacks it."""
    title = f"\u201c{meta.title}\u201d"
    venue = meta.container or ""
    if meta.volume:
        venue += f" {meta.volume}"
        if meta.issue:
            venue += f":{meta.issue}"
    if ask.field == "authors":
        if not meta.authors:
            return None
        where = f" ({', '.join(x for x in (venue.strip(), str(meta.year or '')) if x)})" if venue or meta.year else ""
        return f"{title}{where} is by {_names(meta.authors)}"
    if ask.field == "container":
        if not meta.container:
            return None
        pages = f", pages {meta.pages}" if meta.pages else ""
        year = f" ({meta.year})" if meta.year else ""
        return f"{title} appeared in {venue.strip()}{year}{pages}"
    if ask.field == "year":
        if not meta.year:
            return None
        return f"{title} was published in {meta.year}" + (f", in {meta.container}" if meta.container else "")
    return None


def quote_line(text: str, ask: RecordAsk, meta: DocumentMeta) -> str:
    """The line of the cited passage that shows the record's value (the byline, the journal line),
    verbatim; else the passage's first line."""
    values = {
        "authors": [str(a) for a in meta.authors] + [str(a).split()[-1] for a in meta.authors if str(a).split()],
        "container": [meta.container or ""],
        "year": [str(meta.year or "")],
    }[ask.field]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for v in values:
        for ln in lines:
            if v and v in ln and len(ln) <= 300:
                return ln
    return lines[0][:300] if lines else ""
