"""Answer quality on corpora of different kinds, leave-one-corpus-out, with the real model and store.

Every corpus of eval/corpora/corpora.yaml is ingested into its own temporary store and every
question run once; the verdict is then fitted on all corpora but one and scored on the one left
out (rag.evaluation.calibration). No figure below comes from a model that saw the corpus it is
measured on. The gates sit under the figures measured when they were set (README "Quality"),
with a margin for the last-digit noise of another machine; they are not the targets of the
answer-quality issue, which the answerer does not reach yet (README says so).
"""

from __future__ import annotations

import pytest

from tests.corpus_store import REPO_ROOT

MANIFEST = REPO_ROOT / "eval" / "corpora" / "corpora.yaml"


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """(spec, Assistant) per corpus, each in a fresh store."""
    from ingest import ingest_paths
    from rag import Assistant
    from rag.evaluation.calibration import load_corpora
    from rag.settings import Settings

    out = []
    for spec in load_corpora(MANIFEST):
        s = Settings(data_dir=tmp_path_factory.mktemp(spec.name), chroma_url=None, corpus_dir=spec.docs, llm="extractive")
        rep = ingest_paths([spec.docs], s, progress=False)
        assert not rep.files_failed, rep.files_failed
        out.append((spec, Assistant(s)))
    return out


@pytest.fixture(scope="module")
def rows(corpora):
    from rag.answering.verdict import FEATURES
    from rag.evaluation.calibration import collect

    return [r for spec, qa in corpora for r in collect(qa, spec, FEATURES)]


@pytest.fixture(scope="module")
def held_out(rows):
    from rag.answering.verdict import FEATURES
    from rag.evaluation.calibration import leave_one_corpus_out

    return leave_one_corpus_out(rows, FEATURES)


def test_corpora_are_varied_and_large_enough(corpora, rows):
    assert len(corpora) >= 4
    for spec, _ in corpora:
        mine = [r for r in rows if r.corpus == spec.name and r.set == spec.questions[0].stem]
        assert len(mine) >= 60, spec.name
        assert sum(not r.answerable for r in mine) / len(mine) >= 0.40, spec.name


def test_held_out_coverage_and_false_refusals(held_out):
    figs = [f for sets in held_out.values() for f in sets.values()]
    for name, sets in held_out.items():
        for qset, f in sets.items():
            assert f.coverage >= 0.58, (name, qset, f)
            assert f.false_refusal <= 0.18, (name, qset, f)
    assert sum(f.coverage for f in figs) / len(figs) >= 0.72
    assert sum(f.false_refusal for f in figs) / len(figs) <= 0.08


def test_held_out_near_topic_unanswerables_are_refused(held_out):
    figs = [f for sets in held_out.values() for f in sets.values()]
    assert all(f.refusal >= 0.15 for f in figs), figs
    assert sum(f.refusal for f in figs) / len(figs) >= 0.33


def test_retrieval_finds_the_answer(held_out):
    for name, sets in held_out.items():
        for qset, f in sets.items():
            assert f.hit5 >= 0.88, (name, qset, f)


def test_a_standalone_question_after_an_unrelated_turn_gets_its_fresh_answer(corpora):
    from rag.evaluation.questions import load_questions

    same = total = 0
    for i, (spec, qa) in enumerate(corpora):
        other_spec = corpora[(i + 1) % len(corpora)][0]
        others, _ = load_questions(other_spec.questions[0])
        unrelated = [q.question for q in others if not q.history]
        qs, _ = load_questions(spec.questions[0])
        for j, q in enumerate([q for q in qs if not q.history][::2]):
            fresh = qa.ask(q.question)
            after = qa.ask(q.question, history=[unrelated[j % len(unrelated)]])
            same += (fresh.refused, fresh.answer) == (after.refused, after.answer)
            total += 1
    assert total >= 100
    assert same / total >= 0.95


def test_citations_quote_their_chunks_verbatim(corpora):
    from rag.evaluation.questions import load_questions

    checked = 0
    for spec, qa in corpora:
        qs, _ = load_questions(spec.questions[0])
        for q in [q for q in qs if q.answerable][:10]:
            ans = qa.ask(q.question, history=q.history or None)
            chunks = qa.chunk_texts([c.chunk_id for c in ans.citations])
            for c in ans.citations:
                assert all(quote in chunks[c.chunk_id] for quote in c.quotes), (spec.name, q.id)
                assert len({c.chunk_id for c in ans.citations}) == len(ans.citations)  # one card a passage
                checked += 1
    assert checked >= 20


def test_both_parts_of_two_part_questions_are_answered(corpora):
    """eval/compound: every part of "..., and in which city ...?" questions, with the shipped
    verdict (fitted without them). Measured 41 of 48 (0.85) on 8 December."""
    from rag.evaluation.metrics import includes_all
    from rag.evaluation.questions import load_questions

    both = total = 0
    for spec, qa in corpora:
        questions, _ = load_questions(REPO_ROOT / "eval" / "compound" / f"{spec.name}.jsonl")
        assert len(questions) >= 8, spec.name
        for q in questions:
            total += 1
            both += includes_all(qa.ask(q.question).answer, q.must_include)
    assert both / total >= 0.75, (both, total)
