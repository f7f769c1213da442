"""The shipped corpus covers the 100-fact sheet, and the background notes are well-formed.

Fast: reads docs_corpus/ with the ingestion loaders (decoding, front matter, Markdown and text
cleaning) but loads no model and writes no store.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from ingest.cleaning import clean_text, markdown_to_text
from ingest.discovery import discover
from ingest.loaders import load_file, split_front_matter
from ingest.metadata import read_metadata
from rag.text import fold

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "docs_corpus"
RELATED = CORPUS / "related"
TERMS_DIR = Path(__file__).resolve().parent / "fact_terms"
ALL_FACTS = set(range(1, 101))
REFERENCES = re.compile(r"^##\s+References\s*$", re.M)


@cache
def corpus_texts() -> dict[str, str]:
    """doc_id -> folded cleaned text of every file an ingest of docs_corpus/ would take."""
    found = discover([CORPUS])
    assert not found.rejected, found.rejected
    out: dict[str, str] = {}
    for f in found.files:
        loaded = load_file(f.path)
        meta = read_metadata(f.path, loaded.front_matter, loaded.html_title)
        assert meta.doc_id not in out, f"duplicate doc_id {meta.doc_id}"
        out[meta.doc_id] = fold("\n\n".join(t for _, t in loaded.pages))
    return out


@cache
def fact_terms() -> dict[int, list[str]]:
    terms: dict[int, list[str]] = {}
    for p in sorted(TERMS_DIR.glob("*.json")):
        for key, value in json.loads(p.read_text(encoding="utf-8")).items():
            n = int(key)
            assert n not in terms, f"fact {n} listed in more than one fact_terms file ({p.name})"
            terms[n] = value
    return terms


def related_docs() -> list[Path]:
    return sorted(RELATED.glob("*.md"))


def front_matter(path: Path) -> tuple[dict, str]:
    return split_front_matter(path.read_text(encoding="utf-8"), path.name)


def test_corpus_is_abstract_plus_background_notes():
    texts = corpus_texts()
    assert "king-muminov-2022" in texts
    assert len(related_docs()) >= 13
    assert set(texts) == {"king-muminov-2022"} | {p.stem for p in related_docs()}


def test_fact_terms_cover_facts_1_to_100():
    terms = fact_terms()
    assert set(terms) == ALL_FACTS, (
        f"missing {sorted(ALL_FACTS - set(terms))}, extra {sorted(set(terms) - ALL_FACTS)}"
    )
    for n, ts in terms.items():
        assert isinstance(ts, list) and ts, f"fact {n}: no terms"
        assert all(isinstance(t, str) and t.strip() for t in ts), f"fact {n}: blank term"


@pytest.mark.parametrize("fact", sorted(ALL_FACTS))
def test_fact_is_stated_in_some_document(fact: int):
    terms = fact_terms().get(fact)
    assert terms, f"fact {fact} has no terms in tests/corpus/fact_terms/"
    texts = corpus_texts()
    missing = {doc: [t for t in terms if fold(t) not in text] for doc, text in texts.items()}
    if any(not m for m in missing.values()):
        return
    doc, nearest = min(missing.items(), key=lambda kv: len(kv[1]))
    pytest.fail(f"fact {fact}: no document has all of {terms}; nearest is {doc}, missing {nearest}")


@pytest.mark.parametrize("path", related_docs(), ids=lambda p: p.stem)
def test_front_matter(path: Path):
    fm, _ = front_matter(path)
    assert fm.get("doc_id") == path.stem, "doc_id must equal the file stem"
    assert isinstance(fm.get("title"), str) and fm["title"].strip()
    assert isinstance(fm.get("source_type"), str) and fm["source_type"].strip()
    assert isinstance(fm.get("year"), int) and 1900 <= fm["year"] <= 2100
    themes = fm.get("themes")
    assert isinstance(themes, list) and themes and all(isinstance(t, str) and t for t in themes)
    facts = fm.get("facts")
    assert isinstance(facts, list) and facts, "front matter must list the facts it covers"
    assert all(isinstance(n, int) for n in facts), facts
    assert set(facts) <= ALL_FACTS, f"facts outside 1..100: {sorted(set(facts) - ALL_FACTS)}"


def test_front_matter_facts_cover_1_to_100():
    union: set[int] = set()
    for p in related_docs():
        union |= set(front_matter(p)[0].get("facts") or [])
    assert union == ALL_FACTS, f"not covered by any document: {sorted(ALL_FACTS - union)}"


@pytest.mark.parametrize("path", related_docs(), ids=lambda p: p.stem)
def test_references_and_length(path: Path):
    _, body = front_matter(path)
    parts = REFERENCES.split(body)
    assert len(parts) == 2, "needs exactly one '## References' section"
    main, refs = parts
    assert re.search(r"^\s*[-*]\s+\S", refs, re.M), "References section lists no sources"
    assert re.search(r"\bfacts?\s+\d", refs), "References should name fact numbers"
    words = len(clean_text(markdown_to_text(main)).split())
    assert 400 <= words <= 1200, f"{words} words of body text (want 400-1,200)"
