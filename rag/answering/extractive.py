"""The offline answerer: the best sentences of the retrieved passages, each cited where it stands."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.answering.evidence import Sentence
from rag.answering.terms import Term, coverage
from rag.models import Citation, Passage
from rag.text import lexical_tokens

MAX_SENTENCES = 5
MIN_SENTENCES = 2
RELATIVE_CUTOFF = 0.78
SECOND_CUTOFF = 0.6
REPEAT_SIM = 0.86
TERM_WEIGHT = 0.35
RANK_WEIGHT = 0.04


@dataclass
class Scored:
    sentence: Sentence
    sim: float
    score: float
    coverage: float = 0.0


def score_sentences(sentences: list[Sentence], qvec: np.ndarray, terms: list[Term]) -> list[Scored]:
    if not sentences:
        return []
    sims = np.vstack([s.vec for s in sentences]) @ qvec
    out = []
    for s, sim in zip(sentences, sims, strict=True):
        cov = coverage(terms, set(lexical_tokens(s.text)))
        out.append(Scored(s, float(sim), float(sim) + TERM_WEIGHT * cov + RANK_WEIGHT / (1 + s.passage), cov))
    out.sort(key=lambda x: -x.score)
    return out


def select(scored: list[Scored]) -> list[Scored]:
    """2–5 sentences: the best, then those close to it in score, never two that say the same."""
    if not scored:
        return []
    best = scored[0].score
    chosen: list[Scored] = [scored[0]]
    for cand in scored[1:]:
        if len(chosen) >= MAX_SENTENCES:
            break
        floor = SECOND_CUTOFF if len(chosen) < MIN_SENTENCES else RELATIVE_CUTOFF
        if cand.score < floor * best:
            break
        if any(
            float(np.dot(cand.sentence.vec, c.sentence.vec)) > REPEAT_SIM or cand.sentence.display == c.sentence.display
            for c in chosen
        ):
            continue
        chosen.append(cand)
    return chosen


def compose(chosen: list[Scored], passages: list[Passage]) -> tuple[str, list[Citation]]:
    """Order for reading: documents by their best sentence, sentences in document order; cite each."""
    doc_rank: dict[str, int] = {}
    for c in chosen:
        doc_rank.setdefault(passages[c.sentence.passage].doc_id, len(doc_rank))

    def position(c: Scored) -> tuple:
        p = passages[c.sentence.passage]
        return (doc_rank[p.doc_id], int(p.metadata.get("char_start", 0)) + c.sentence.start)

    parts, citations = [], []
    for n, c in enumerate(sorted(chosen, key=position), start=1):
        p = passages[c.sentence.passage]
        quote = c.sentence.display
        citations.append(citation(n, p, quote, c.sim))
        parts.append(with_marker(quote, n))
    return " ".join(parts), citations


def with_marker(sentence: str, n: int) -> str:
    s = sentence.rstrip()
    if s and s[-1] in ".!?" and not s.endswith("..."):
        return f"{s[:-1]} [{n}]{s[-1]}"
    return f"{s} [{n}]"


def citation(n: int, p: Passage, quote: str, score: float) -> Citation:
    m = p.metadata
    authors = [a for a in str(m.get("authors", "")).split("; ") if a]
    return Citation(
        n=n,
        doc_id=p.doc_id,
        chunk_id=p.chunk_id,
        title=str(m.get("title", p.doc_id)),
        authors=authors,
        year=m.get("year"),
        page=p.page,
        quote=quote,
        score=round(score, 4),
        container=m.get("container"),
        url=m.get("url") or (f"https://doi.org/{m['doi']}" if m.get("doi") else None),
    )
