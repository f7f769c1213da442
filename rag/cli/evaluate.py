"""`cadres eval`: run a JSONL question set; exit 1 when a threshold is missed."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rag.cli.common import EXIT_OK, K, fail, load_settings


@click.command("eval")
@click.argument("questions")
@click.option("--out", default=None, help="folder for report.json, report.md and plots")
@click.option("--k", type=K, default=5, help="passages cited per answer, 1-50")
@click.option("--json", "as_json", is_flag=True, help="print the summary as JSON")
@click.option("--min-hit5", type=float, default=None)
@click.option("--min-coverage", type=float, default=None)
@click.option("--min-refusal", type=float, default=None)
@click.option("--compare", default=None, help="an earlier report.json to compare with")
def eval_command(questions, out, k, as_json, min_hit5, min_coverage, min_refusal, compare) -> int:
    """evaluate on a JSONL question set (exit 1 when a threshold is missed)

    QUESTIONS is a JSONL file: {id, question, answerable, must_include, history?, ...}."""
    from rag.assistant import Assistant
    from rag.evaluation import EvalReport, evaluate, load_questions
    from rag.evaluation.report import compare as compare_reports
    from rag.evaluation.report import deltas_markdown
    from rag.store import StoreError

    try:
        qs, errors = load_questions(questions)
    except FileNotFoundError as e:
        return fail(str(e))
    for e in errors:
        print(f"skipped: {e.error}", file=sys.stderr)
    old = None
    if compare:
        try:
            old = EvalReport.model_validate_json(Path(compare).read_text())
        except (OSError, ValueError) as e:
            return fail(f"--compare {compare}: not a readable report.json ({str(e).splitlines()[0]})")
    try:
        report = evaluate(qs, Assistant(load_settings()), k=k, errors=errors)
    except StoreError as e:
        return fail(str(e))
    if out:
        written = report.write(out, compare_to=old)
        print("wrote " + ", ".join(str(w) for w in written), file=sys.stderr)
    s = report.summary
    if as_json:
        print(s.model_dump_json(indent=2))
    else:
        print(
            f"{s.questions} questions: hit@1 {s.hit_at.get('1')}, hit@5 {s.hit_at.get('5')}, MRR {s.mrr}, "
            f"coverage {s.coverage}, refusal {s.refusal_rate}, false refusal {s.false_refusal_rate}, "
            f"citations verbatim {s.citation_verbatim}, ask p50 {s.latency_ms.get('ask_p50')} ms"
        )
    if old is not None:  # stdout stays pure JSON with --json
        print(deltas_markdown(compare_reports(old, report)), file=sys.stderr if as_json else sys.stdout)
    misses = []
    for name, value, floor in (
        ("hit@5", s.hit_at.get("5"), min_hit5),
        ("coverage", s.coverage, min_coverage),
        ("refusal", s.refusal_rate, min_refusal),
    ):
        if floor is not None and (value is None or value < floor):
            misses.append(f"{name} {value} < {floor}")
    if misses:
        return fail("threshold missed: " + "; ".join(misses))
    return EXIT_OK
