"""rag.evaluation.summarise and EvalReport.write on hand-built rows whose numbers are worked out by hand."""

from __future__ import annotations

import json

import pytest

from rag.evaluation import summarise
from rag.evaluation.questions import LineError
from rag.evaluation.report import (
    EvalReport,
    EvalRow,
    EvalSummary,
    RetrievedRef,
    compare,
    deltas_markdown,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PLOTS = ("hit_at_k.png", "latency.png", "by_document.png")


def rows() -> list[EvalRow]:
    ref = [RetrievedRef(chunk_id="docA::00001", doc_id="docA", score=0.8, text="some retrieved text")]
    return [
        EvalRow(id="r1", question="q1", answerable=True, must_include=["a"], gold_doc_ids=["docA"], retrieved=ref,
                first_hit_rank=1, reciprocal_rank=1.0, doc_recall=1.0, covered=True, citations=2,
                citations_verbatim=1.0, cited_sentences=1.0, retrieve_ms=10, ask_ms=100, answer="A [1]."),
        EvalRow(id="r2", question="q2", answerable=True, must_include=["b"], gold_doc_ids=["docB"], retrieved=ref,
                first_hit_rank=4, reciprocal_rank=0.25, doc_recall=0.5, covered=False, citations=2,
                citations_verbatim=0.5, cited_sentences=0.5, retrieve_ms=20, ask_ms=200,
                failure="answer lacks b; a citation quote is not verbatim in its chunk"),
        EvalRow(id="r3", question="q3", answerable=True, must_include=["c"], gold_doc_ids=["docA"],
                first_hit_rank=None, reciprocal_rank=0.0, doc_recall=0.0, refused=True, covered=False,
                retrieve_ms=30, ask_ms=300, failure="refused an answerable question"),
        EvalRow(id="r4", question="q4", answerable=True, retrieve_ms=40, ask_ms=400),  # no must_include
        EvalRow(id="r5", question="q5", answerable=False, refused=True, retrieve_ms=50, ask_ms=500),
        EvalRow(id="r6", question="q6", answerable=False, refused=False, failure="answered an unanswerable question"),
    ]


@pytest.fixture
def summary() -> EvalSummary:
    return summarise(rows(), k=5, malformed=2)


def test_counts(summary):
    assert (summary.questions, summary.answerable, summary.unanswerable) == (6, 4, 2)
    assert summary.malformed_lines == 2 and summary.k == 5


def test_retrieval_metrics_over_scored_questions(summary):
    # Scored = answerable with must_include: r1 (rank 1), r2 (rank 4), r3 (no hit).
    assert summary.hit_at == {"1": 0.3333, "3": 0.3333, "5": 0.6667, "10": 0.6667}
    assert summary.mrr == round((1 + 0.25 + 0) / 3, 4)
    assert summary.doc_recall == 0.5  # (1 + 0.5 + 0) / 3; r4 has no gold documents
    assert summary.coverage == 0.3333  # only r1 is covered


def test_refusal_metrics(summary):
    assert summary.refusal_rate == 0.5  # r5 refused, r6 answered
    assert summary.false_refusal_rate == 0.25  # r3 of the four answerable


def test_citation_and_latency_metrics(summary):
    assert summary.citation_verbatim == 0.75  # (1.0 + 0.5) / 2, rows without citations skipped
    assert summary.cited_sentences == 0.75
    assert summary.latency_ms == {"retrieve_p50": 30.0, "retrieve_p95": 48.0, "ask_p50": 300.0, "ask_p95": 480.0}


def test_summary_of_nothing():
    s = summarise([], k=5)
    assert s.questions == 0 and s.mrr is None and s.refusal_rate is None and s.coverage is None
    assert s.hit_at == {"1": None, "3": None, "5": None, "10": None}
    assert s.latency_ms["ask_p50"] is None


def test_flat_skips_missing_values(summary):
    flat = summary.flat()
    assert flat["hit_at.5"] == 0.6667 and flat["latency_ms.ask_p95"] == 480.0
    assert "faithfulness" not in flat  # None
    assert all(isinstance(v, int | float) for v in flat.values())


def _valid_png(path) -> None:
    from PIL import Image

    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC), path
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size[0] > 100 and im.size[1] > 100


def test_write_report_with_comparison(tmp_path, summary):
    old = EvalReport(summary=summarise(rows()[:2], k=5), rows=rows()[:2])
    new = EvalReport(summary=summary, rows=rows(), errors=[LineError(line=3, error="q.jsonl:3: invalid JSON (x)")])
    written = new.write(tmp_path / "out", compare_to=old)
    out = tmp_path / "out"
    names = {p.name for p in written}
    assert names == {"report.json", "report.md", "compare.json", *PLOTS}
    for p in written:
        assert p.parent == out and p.stat().st_size > 0

    back = EvalReport.model_validate_json((out / "report.json").read_text())
    assert back == new

    deltas = json.loads((out / "compare.json").read_text())
    assert deltas == compare(old, new)
    assert deltas["mrr"] == {"old": 0.625, "new": 0.4167, "delta": -0.2083}
    assert deltas["questions"] == {"old": 2, "new": 6, "delta": 4}
    assert deltas["refusal_rate"] == {"old": None, "new": 0.5, "delta": None}

    md = (out / "report.md").read_text()
    assert md.startswith("# Evaluation report")
    assert "Mode: extractive; k = 5; 6 questions (4 answerable, 2 unanswerable); 2 malformed lines." in md
    assert "| mrr | 0.4167 |" in md
    assert "skipped: q.jsonl:3: invalid JSON (x)" in md
    assert "## Worst questions (3 with a failure)" in md
    assert "### r3: q3" in md and "refused an answerable question" in md
    assert "`docA::00001` (0.800) some retrieved text" in md
    assert "## Against the earlier report" in md
    assert "| mrr | 0.625 | 0.4167 | -0.2083 |" in md
    assert "| refusal_rate | None | 0.5 | - |" in md
    for name in PLOTS:
        _valid_png(out / name)


def test_write_report_without_comparison_or_rows(tmp_path):
    written = EvalReport(summary=summarise([], k=3)).write(tmp_path / "empty")
    assert {p.name for p in written} == {"report.json", "report.md", *PLOTS}
    assert not (tmp_path / "empty" / "compare.json").exists()
    for name in PLOTS:
        _valid_png(tmp_path / "empty" / name)


def test_deltas_markdown_signs():
    md = deltas_markdown({"a": {"old": 1, "new": 2, "delta": 1}, "b": {"old": 0.5, "new": 0.25, "delta": -0.25}})
    assert "| a | 1 | 2 | +1 |" in md and "| b | 0.5 | 0.25 | -0.25 |" in md
