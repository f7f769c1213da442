"""`cadres ask`: one question, answered with numbered, cited sources (or --json, the Answer)."""

from __future__ import annotations

import click

from rag.cli.common import EXIT_OK, K, fail, load_settings


@click.command("ask")
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="print the Answer as JSON")
@click.option("--k", type=K, default=None, help="passages to retrieve, 1-50 (default CADRES_TOP_K)")
@click.option("--llm", default=None, help="extractive | ollama:<model> | openai:<model>")
@click.option("--history", multiple=True, help="an earlier question (repeatable)")
@click.option("--doc", multiple=True, help="only this doc_id (repeatable)")
@click.option("--year-min", type=int, default=None)
@click.option("--year-max", type=int, default=None)
def ask_command(question, as_json, k, llm, history, doc, year_min, year_max) -> int:
    """answer a question with numbered, cited sources"""
    from rag.assistant import Assistant, QuestionError
    from rag.store import StoreError

    settings = load_settings()
    if llm:
        settings = settings.model_copy(update={"llm": llm})
    filters = {"doc_ids": list(doc) or None, "year_min": year_min, "year_max": year_max}
    try:
        ans = Assistant(settings).ask(question, history=list(history) or None, k=k, filters=filters)
    except (QuestionError, StoreError, ValueError) as e:
        return fail(str(e))
    if as_json:
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
