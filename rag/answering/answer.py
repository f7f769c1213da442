"""From a retrieval to an Answer: evidence and verdict, then the extractive answer or a refusal.

The Assistant retrieves and hands over here; both answerers read the same Evidence.
"""

from __future__ import annotations

from rag.answering import extractive
from rag.answering.evidence import Evidence, build
from rag.answering.question import analyse
from rag.answering.verdict import Model, decide
from rag.chunk_schema import authors_of, document_meta_of
from rag.citing import author_date
from rag.models import Answer, Passage

REFUSAL_OPENING = "The corpus does not answer this question"


def gather(question: str, query: str, retrieval, encode, lexical, words, model: Model | None = None) -> Evidence:
    """Evidence for the question over the retrieved passages, with its verdict. `encode` (texts ->
    vectors) serves only chunks stored without their sentence vectors."""
    asked = analyse(question, lexical, retrieval_query=query)
    ev = build(asked, query, retrieval.passages, retrieval.query_vec, retrieval.sentence_vecs, encode, words)
    ev.verdict = decide(ev, model)
    return ev


def extractive_answer(ev: Evidence) -> Answer:
    text, citations = extractive.compose(extractive.select(ev), ev)
    return Answer(question=ev.question, answer=text, citations=citations, mode="extractive", query=ev.query)


def record_answer(ev: Evidence, corpus, passage_of) -> Answer | None:
    """An answer from a document's record when the question asks who wrote a document it names,
    or where or when it was published (see rag.answering.record); None otherwise. `corpus()` lists
    every document's record, `passage_of(doc_id)` gives that document's passage best for the
    question: both are asked for only when the question is of this kind."""
    from rag.answering import record

    ask = record.record_question(ev.question)
    if ask is None:
        return None
    ranked = list({p.doc_id: document_meta_of(p.metadata) for p in ev.passages}.values())
    meta = record.pick_document(ev.question, ask, ranked, corpus())
    said = record.statement(ask, meta) if meta else None
    if meta is None or said is None:
        return None
    passage = next((p for p in ev.passages if p.doc_id == meta.doc_id), None) or passage_of(meta.doc_id)
    if passage is None:
        return None
    quote = record.quote_line(passage.text, ask, meta)
    text = f"{said} [1]."
    cite = extractive.citation(1, passage, [quote], passage.score)
    return Answer(question=ev.question, answer=text, citations=[cite], mode="extractive", query=ev.query)


def refusal_answer(ev: Evidence, mode: str, reason: str | None = None, outside: Evidence | None = None) -> Answer:
    """A refusal that says why, names the closest sources with their best sentence, and says when a
    document or year filter is what kept the answer out."""
    why = reason or (ev.verdict.reason if ev.verdict else "") or "no passage answers it"
    shown = ev
    if outside is not None and outside.verdict and outside.verdict.answerable:
        docs = list(dict.fromkeys(p.metadata.get("title") or p.doc_id for p in outside.passages))[:3]
        why = "the document or year filter leaves out the passages that answer it; the corpus has matches outside the filter, in " + "; ".join(docs)
        shown = outside
    closest = closest_sources(shown)
    text = f"{REFUSAL_OPENING} ({why})."
    if closest:
        text += " The closest sources are: " + "; ".join(closest) + "."
    return Answer(question=ev.question, answer=text, refused=True, mode=mode, query=ev.query, closest_sources=closest)


def closest_sources(ev: Evidence, n: int = 3) -> list[str]:
    """Up to n sources, each with its best sentence for the question."""
    best_sentence: dict[int, str] = {}
    for c in ev.sentences:
        best_sentence.setdefault(c.sentence.passage, c.sentence.display)
    out: list[str] = []
    seen: set[str] = set()
    for i, p in enumerate(ev.passages):
        label = source_label(p)
        if label in seen:
            continue
        seen.add(label)
        s = best_sentence.get(i)
        out.append(f"{label}: \u201c{s}\u201d" if s else label)
        if len(out) >= n:
            break
    return out


def source_label(p: Passage) -> str:
    m = p.metadata
    authors = authors_of(m)
    return f"{author_date(authors, m.get('year'), p.page, str(m.get('title', '')))} ({m.get('title', p.doc_id)})"
