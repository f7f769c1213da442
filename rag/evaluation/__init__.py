"""Batch evaluation of the assistant on a question set: `cadres eval` and rag.evaluate."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rag.evaluation import metrics as m
from rag.evaluation.questions import LineError, Question, load_questions, parse_questions
from rag.evaluation.report import EvalReport, EvalRow, EvalSummary, RetrievedRef

if TYPE_CHECKING:
    from rag.assistant import Assistant

__all__ = ["EvalReport", "EvalRow", "EvalSummary", "Question", "evaluate", "load_questions", "parse_questions"]

RETRIEVE_DEPTH = 10


def evaluate(
    questions: Iterable[Question | dict] | str,
    assistant: Assistant | None = None,
    *,
    k: int = 5,
    progress: bool | None = None,
    errors: list[LineError] | None = None,
) -> EvalReport:
    """Run every question through retrieval and answering; measure what the README promises."""
    from tqdm import tqdm

    from rag.assistant import Assistant

    errors = list(errors or [])
    if isinstance(questions, str):
        qs, errs = load_questions(questions)
        errors += errs
    else:
        qs = [q if isinstance(q, Question) else Question(**q) for q in questions]
    qa = assistant or Assistant()
    rows: list[EvalRow] = []
    show = sys.stderr.isatty() if progress is None else progress
    for q in tqdm(qs, desc="eval", unit="q", disable=not show, file=sys.stderr):
        rows.append(_one(qa, q, k))
    return EvalReport(summary=summarise(rows, k, len(errors)), rows=rows, errors=errors, mode=qa.mode)


def _one(qa: Assistant, q: Question, k: int) -> EvalRow:
    row = EvalRow(
        id=q.id, question=q.question, answerable=q.answerable, history=q.history,
        must_include=q.must_include, gold_doc_ids=q.gold_doc_ids,
    )
    passages = qa.retrieve(q.question, k=max(RETRIEVE_DEPTH, k), history=q.history or None)
    row.retrieved = [RetrievedRef(chunk_id=p.chunk_id, doc_id=p.doc_id, score=p.score, text=p.text) for p in passages]
    texts = [p.text for p in passages]
    row.first_hit_rank = m.first_hit_rank(texts, q.must_include)
    row.reciprocal_rank = m.reciprocal_rank(row.first_hit_rank)
    row.doc_recall = m.doc_recall([p.doc_id for p in passages], q.gold_doc_ids, k)
    ans = qa.ask(q.question, history=q.history or None, k=k)
    row.answer, row.refused = ans.answer, ans.refused
    row.retrieve_ms, row.ask_ms = ans.timings_ms.get("retrieve"), ans.timings_ms.get("total")
    row.citations = len(ans.citations)
    if ans.citations:
        chunks = qa.chunk_texts([c.chunk_id for c in ans.citations])
        row.citations_verbatim = sum(1 for c in ans.citations if c.quote in chunks.get(c.chunk_id, "")) / len(ans.citations)
    if not ans.refused:
        row.cited_sentences = m.cited_sentence_share(ans.answer)
    failures = []
    if q.answerable:
        row.covered = (not ans.refused) and m.includes_all(ans.answer, q.must_include) if q.must_include else None
        if ans.refused:
            failures.append("refused an answerable question")
        elif row.covered is False:
            failures.append("answer lacks " + ", ".join(s for s in q.must_include if not m.includes_all(ans.answer, [s])))
        if q.must_include and not m.hit_at(row.first_hit_rank, k):
            failures.append(f"top-{k} chunks lack the expected strings")
    elif not ans.refused:
        failures.append("answered an unanswerable question")
    if row.citations_verbatim is not None and row.citations_verbatim < 1:
        failures.append("a citation quote is not verbatim in its chunk")
    row.failure = "; ".join(failures) or None
    return row


def summarise(rows: list[EvalRow], k: int, malformed: int = 0) -> EvalSummary:
    ans = [r for r in rows if r.answerable]
    una = [r for r in rows if not r.answerable]
    scored = [r for r in ans if r.must_include]
    hit = {str(n): m.mean([float(m.hit_at(r.first_hit_rank, n)) for r in scored]) for n in (1, 3, 5, 10)}
    return EvalSummary(
        questions=len(rows), answerable=len(ans), unanswerable=len(una), malformed_lines=malformed, k=k,
        hit_at=hit,
        mrr=m.mean([r.reciprocal_rank for r in scored]),
        doc_recall=m.mean([r.doc_recall for r in ans]),
        coverage=m.mean([float(bool(r.covered)) for r in scored]),
        refusal_rate=m.mean([float(r.refused) for r in una]),
        false_refusal_rate=m.mean([float(r.refused) for r in ans]),
        citation_verbatim=m.mean([r.citations_verbatim for r in rows]),
        cited_sentences=m.mean([r.cited_sentences for r in rows]),
        latency_ms={
            "retrieve_p50": m.percentile([r.retrieve_ms for r in rows], 50),
            "retrieve_p95": m.percentile([r.retrieve_ms for r in rows], 95),
            "ask_p50": m.percentile([r.ask_ms for r in rows], 50),
            "ask_p95": m.percentile([r.ask_ms for r in rows], 95),
        },
    )
