"""How a question names a document without quoting it: by an author's surname ("What did King and
Muminov argue?") or by its kind ("the article", "this report").

Shared by retrieval (which adds a named document's passages to the fusion) and the answering
layer (which answers "Who wrote the article?" from the named document's record); neither imports
the other.
"""

from __future__ import annotations

import re

from rag.text import fold

KINDS = (
    "article", "paper", "book", "report", "chapter", "thesis", "dissertation", "study", "essay",
    "review", "monograph", "bulletin", "notes", "page", "document",
)
_KIND_WORD = re.compile(rf"\b({'|'.join(KINDS)})s?\b", re.I)
_THE_KIND = re.compile(rf"\b(the|this|that|their|his|her|its)\s+(?:\w+\s+){{0,2}}?({'|'.join(KINDS)})s?\b", re.I)
_CAPITALISED = re.compile(r"\b[A-Z][\w'\u2019-]+")


def kind_asked(question: str) -> str | None:
    """The kind of document the question points at: "article" in "What does the article say ...?"."""
    m = _THE_KIND.search(question)
    return m.group(2).lower() if m else None


def kind_of(source_type: str | None) -> str | None:
    """The kind word of a document's source type: "journal article (abstract)" -> "article"."""
    m = _KIND_WORD.search(source_type or "")
    return m.group(1).lower() if m else None


def surname(author: str) -> str | None:
    """The folded last word of an author's name, when it can name them ("Amy King" -> "king")."""
    parts = str(author).split()
    return fold(parts[-1]) if parts and len(parts[-1]) > 2 and parts[-1][:1].isupper() else None


def capitalised_words(question: str) -> set[str]:
    """Folded words written with a capital: only those can be surnames ("king" names nobody).
    "Muminov's" and "King-Muminov" give their names."""
    out: set[str] = set()
    for w in _CAPITALISED.findall(question):
        for part in re.split(r"-", re.sub(r"['\u2019]s?$", "", w)):
            if part[:1].isupper():
                out.add(fold(part))
    return out
