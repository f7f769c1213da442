"""Subcommands beyond settings/ingest: ask, eval, ui, serve. Each front end only calls the library."""

from __future__ import annotations

import sys
from pathlib import Path

from rag.cli import _EXTRA_COMMANDS, EXIT_OK, _fail, _settings, k_arg


def register(name: str):
    def deco(fn):
        _EXTRA_COMMANDS.append((name, fn))
        return fn

    return deco


# ---------------------------------------------------------------- ask
@register("ask")
def ask_parser(p) -> None:
    """answer a question with numbered, cited sources"""
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the Answer as JSON")
    p.add_argument("--k", type=k_arg, default=None, help="passages to retrieve, 1-50 (default CADRES_TOP_K)")
    p.add_argument("--llm", default=None, help="extractive | ollama:<model> | openai:<model>")
    p.add_argument("--history", action="append", default=[], help="an earlier question (repeatable)")
    p.add_argument("--doc", action="append", default=[], help="only this doc_id (repeatable)")
    p.add_argument("--year-min", type=int, default=None)
    p.add_argument("--year-max", type=int, default=None)
    p.set_defaults(func=cmd_ask)


def cmd_ask(args) -> int:
    from rag.assistant import Assistant, QuestionError
    from rag.store import StoreError

    settings = _settings()
    if args.llm:
        settings = settings.model_copy(update={"llm": args.llm})
    filters = {"doc_ids": args.doc or None, "year_min": args.year_min, "year_max": args.year_max}
    try:
        ans = Assistant(settings).ask(args.question, history=args.history or None, k=args.k, filters=filters)
    except (QuestionError, StoreError, ValueError) as e:
        return _fail(str(e))
    if args.json:
        print(ans.model_dump_json(indent=2))
        return EXIT_OK
    print(ans.answer)
    if ans.citations:
        print("\nSources:")
        for c in ans.citations:
            mark = " \u00b7 OCR" if c.ocr else ""  # the page was read by OCR from a scan
            print(f"  [{c.n}] {c.label}{mark}. {c.title}.")
            print(f"       \u201c{c.quote}\u201d")
    if ans.unsupported:
        print("\nUnsupported (citation removed): " + " | ".join(ans.unsupported))
    return EXIT_OK


# ---------------------------------------------------------------- eval
@register("eval")
def eval_parser(p) -> None:
    """evaluate on a JSONL question set (exit 1 when a threshold is missed)"""
    p.add_argument("questions", help="JSONL file: {id, question, answerable, must_include, history?, ...}")
    p.add_argument("--out", default=None, help="folder for report.json, report.md and plots")
    p.add_argument("--k", type=k_arg, default=5, help="passages cited per answer, 1-50")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--min-hit5", type=float, default=None)
    p.add_argument("--min-coverage", type=float, default=None)
    p.add_argument("--min-refusal", type=float, default=None)
    p.add_argument("--compare", default=None, help="an earlier report.json to compare with")
    p.set_defaults(func=cmd_eval)


def cmd_eval(args) -> int:
    from rag.assistant import Assistant
    from rag.evaluation import EvalReport, evaluate, load_questions
    from rag.evaluation.report import compare, deltas_markdown
    from rag.store import StoreError

    try:
        questions, errors = load_questions(args.questions)
    except FileNotFoundError as e:
        return _fail(str(e))
    for e in errors:
        print(f"skipped: {e.error}", file=sys.stderr)
    old = None
    if args.compare:
        try:
            old = EvalReport.model_validate_json(Path(args.compare).read_text())
        except (OSError, ValueError) as e:
            return _fail(f"--compare {args.compare}: not a readable report.json ({str(e).splitlines()[0]})")
    try:
        report = evaluate(questions, Assistant(_settings()), k=args.k, errors=errors)
    except StoreError as e:
        return _fail(str(e))
    if args.out:
        written = report.write(args.out, compare_to=old)
        print("wrote " + ", ".join(str(w) for w in written), file=sys.stderr)
    s = report.summary
    if args.json:
        print(s.model_dump_json(indent=2))
    else:
        print(
            f"{s.questions} questions: hit@1 {s.hit_at.get('1')}, hit@5 {s.hit_at.get('5')}, MRR {s.mrr}, "
            f"coverage {s.coverage}, refusal {s.refusal_rate}, false refusal {s.false_refusal_rate}, "
            f"citations verbatim {s.citation_verbatim}, ask p50 {s.latency_ms.get('ask_p50')} ms"
        )
    if old is not None:  # stdout stays pure JSON with --json
        print(deltas_markdown(compare(old, report)), file=sys.stderr if args.json else sys.stdout)
    misses = []
    for name, value, floor in (
        ("hit@5", s.hit_at.get("5"), args.min_hit5),
        ("coverage", s.coverage, args.min_coverage),
        ("refusal", s.refusal_rate, args.min_refusal),
    ):
        if floor is not None and (value is None or value < floor):
            misses.append(f"{name} {value} < {floor}")
    if misses:
        return _fail("threshold missed: " + "; ".join(misses))
    return EXIT_OK
