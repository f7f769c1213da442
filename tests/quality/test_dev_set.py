"""The shipped question set, with the real model and store.

The verdict model is fitted on every corpus of eval/corpora/ (this set included), so refusal and
coverage figures on this set are not results: those are gated leave-one-corpus-out in
test_corpora.py. Gated here is what nothing was fitted on: retrieval, verbatim citations, one
citation a sentence, and what a refusal says.
"""

from __future__ import annotations

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


def test_every_citation_is_verbatim(report):
    assert report.summary.citation_verbatim == 1.0
    assert report.summary.cited_sentences >= 0.95


def test_refusal_names_closest_sources_with_their_best_sentence(report):
    refused = [r for r in report.rows if r.refused]
    assert refused
    assert all("corpus does not answer" in r.answer and "closest sources" in r.answer for r in refused)
    assert all("\u201c" in r.answer for r in refused)  # each source with its best sentence, quoted
