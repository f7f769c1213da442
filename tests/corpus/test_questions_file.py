"""eval/dev_questions.jsonl is well-formed and consistent with the shipped corpus (fast, no model)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from ingest.discovery import discover
from ingest.loaders import load_file
from ingest.metadata import read_metadata
from rag.text import fold

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "docs_corpus"
QUESTIONS = ROOT / "eval" / "dev_questions.jsonl"
REQUIRED = {"id": str, "question": str, "answerable": bool, "must_include": list}
COMPARISON = re.compile(r"\b(compare[sd]?|differ|difference)\b", re.I)
OPTIONAL = {"answer": str, "history": list, "gold_doc_ids": list}


@cache
def corpus_texts() -> dict[str, str]:
    """doc_id -> folded cleaned text of every file an ingest of docs_corpus/ would take."""
    out: dict[str, str] = {}
    for f in discover([CORPUS]).files:
        loaded = load_file(f.path)
        meta = read_metadata(f.path, loaded.front_matter, loaded.html_title)
        out[meta.doc_id] = fold("\n\n".join(t for _, t in loaded.pages))
    return out


@cache
def questions() -> list[dict]:
    out = []
    for n, line in enumerate(QUESTIONS.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
        except json.JSONDecodeError as e:
            pytest.fail(f"line {n}: invalid JSON ({e})")
        assert isinstance(q, dict), f"line {n}: not a JSON object"
        out.append(q)
    return out


def test_fields_and_types():
    for q in questions():
        where = q.get("id", "?")
        for key, typ in REQUIRED.items():
            assert key in q, f"{where}: missing {key}"
            assert isinstance(q[key], typ), f"{where}: {key} must be {typ.__name__}"
        for key, typ in OPTIONAL.items():
            if key in q:
                assert isinstance(q[key], typ), f"{where}: {key} must be {typ.__name__}"
        unknown = set(q) - set(REQUIRED) - set(OPTIONAL)
        assert not unknown, f"{where}: unknown fields {sorted(unknown)}"
        assert q["id"].strip() and q["question"].strip(), f"{where}: empty id or question"
        assert all(isinstance(s, str) for s in q["must_include"]), f"{where}: must_include strings"
        if "history" in q:
            assert q["history"], f"{where}: empty history"
            assert all(isinstance(h, str) and h.strip() for h in q["history"]), f"{where}: history"
        if "gold_doc_ids" in q:
            assert all(isinstance(d, str) for d in q["gold_doc_ids"]), f"{where}: gold_doc_ids"


def test_ids_unique():
    ids = [q["id"] for q in questions()]
    dups = sorted({i for i in ids if ids.count(i) > 1})
    assert not dups, f"duplicate ids: {dups}"


def test_size_and_mix():
    qs = questions()
    assert len(qs) >= 60
    assert sum(not q["answerable"] for q in qs) >= 15
    assert sum(bool(q.get("history")) for q in qs) >= 6
    comparisons = [q for q in qs if COMPARISON.search(q["question"])]
    assert len(comparisons) >= 6, "want at least 6 comparison questions"


def test_unanswerable_have_no_must_include_or_gold():
    for q in questions():
        if not q["answerable"]:
            assert q["must_include"] == [], q["id"]
            assert not q.get("gold_doc_ids"), q["id"]


def test_must_include_occurs_in_corpus():
    texts = corpus_texts()
    bad = []
    for q in questions():
        if not q["answerable"]:
            continue
        if not q["must_include"]:
            bad.append(f"{q['id']}: empty must_include")
        for s in q["must_include"]:
            if not s.strip() or not any(fold(s) in t for t in texts.values()):
                bad.append(f"{q['id']}: {s!r} is in no corpus document")
    assert not bad, "\n".join(bad)


def test_gold_doc_ids_exist_and_hold_the_answer():
    texts = corpus_texts()
    bad = []
    for q in questions():
        for d in q.get("gold_doc_ids", []):
            if d not in texts:
                bad.append(f"{q['id']}: unknown doc_id {d!r}")
            elif q["answerable"]:
                lacking = [s for s in q["must_include"] if fold(s) not in texts[d]]
                if lacking:
                    bad.append(f"{q['id']}: gold document {d} lacks {lacking}")
    assert not bad, "\n".join(bad)
