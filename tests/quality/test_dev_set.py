"""Quality gates on the shipped question set, with the real model and store.

Thresholds are the answer-chain issue's: hit@5 >= 0.90, coverage >= 0.80, unanswerable refused
>= 0.90, answerable wrongly refused <= 0.10, every quote verbatim. The refusal rate rests on the
calibrated extractive signals (README "Refusal"): 0.91 measured through `ask` (31 of 34; 0.94
fitted, 0.91 leave-one-out), the nearest unanswerable question below the threshold at a margin of
0.03, so float noise between machines does not move it."""

from __future__ import annotations

import json

import pytest

from tests.corpus_store import DEV_QUESTIONS


@pytest.fixture(scope="module")
def report(assistant):
    from rag.evaluation import evaluate, load_questions

    questions, errors = load_questions(DEV_QUESTIONS)
    assert not errors
    return evaluate(questions, assistant, k=5, progress=False)


def test_retrieval_hit_at_5(report):
    assert report.summary.hit_at["5"] >= 0.90


def test_answer_coverage(report):
    assert report.summary.coverage >= 0.80


def test_false_refusals(report):
    assert report.summary.false_refusal_rate <= 0.10


def test_every_citation_is_verbatim(report):
    assert report.summary.citation_verbatim == 1.0
    assert report.summary.cited_sentences >= 0.95


def test_refusal_original_questions(report):
    shared = [r for r in report.rows if not r.answerable and r.id in _original_unanswerable()]
    assert len(shared) >= 3
    assert sum(r.refused for r in shared) / len(shared) >= 0.90


def test_refusal_extended_set(report):
    assert report.summary.refusal_rate >= 0.90


def test_refusal_names_closest_sources(report):
    refused = [r for r in report.rows if r.refused]
    assert refused
    assert all("corpus does not answer" in r.answer and "closest sources" in r.answer for r in refused)


def _original_unanswerable() -> set[str]:
    ids = set()
    for line in DEV_QUESTIONS.read_text().splitlines()[:31]:
        q = json.loads(line)
        if not q.get("answerable", True):
            ids.add(q["id"])
    return ids
