"""The offline answerer: the sentences of the evidence that answer the question, each cited where
it stands.

Selection is question-focused: it starts from the sentence that best binds the question's names,
words and asked-for filler, adds close runners-up, then makes sure every facet of the question is
covered (both sides of a comparison; the "who" of "When ..., and who ...?"). A sentence that leans
on the one before it ("In contrast, ...", "This ...") brings that one along. Sentences of one
passage share one [n].
"""

from __future__ import annotations

import re

import numpy as np

from rag.answering.evidence import Evidence, Scored, Sentence, previous
from rag.answering.fillers import fillers, surface_fillers
from rag.answering.nlp import annotate
from rag.chunk_schema import authors_of
from rag.models import Citation, Passage
from rag.text import lexical_tokens

MAX_SENTENCES = 5
RELATIVE_CUTOFF = 0.8
FACET_CUTOFF = 0.55
REPEAT_SIM = 0.86
FILL_BONUS = 0.15
WINDOW_WEIGHT = 0.3
_LEANS = re.compile(
    r"^(in contrast|by contrast|however|this|these|that|those|such|it|its|they|their|them|he|she|his|her|"
    r"thus|therefore|hence|consequently|as a result|moreover|furthermore|in addition|also|but|yet|still|"
    r"instead|meanwhile|similarly|likewise|nevertheless|nonetheless|accordingly|otherwise|then|there|the latter|"
    r"the former|both|neither|on the other hand|even so)\b",
    re.I,
)


def _anchor_score(c: Scored) -> float:
    """Closeness and key terms, plus how well the sentence with its predecessor holds every key
    term and the kind of thing asked for."""
    return c.score + WINDOW_WEIGHT * c.window + FILL_BONUS * float(c.filled) * c.entity


def select(ev: Evidence) -> list[Scored]:
    """The anchor sentence, close runners-up, then one sentence per uncovered facet."""
    if not ev.sentences:
        return []
    ranked = sorted(ev.sentences, key=lambda c: -_anchor_score(c))
    best = ranked[0]
    chosen: list[Scored] = [best]
    for cand in ranked[1:]:
        if len(chosen) >= 3:
            break
        if _anchor_score(cand) < RELATIVE_CUTOFF * _anchor_score(best):
            break
        if not _repeats(cand, chosen):
            chosen.append(cand)
    for facet in ev.asked.facets:
        if any(_covers(c, facet, ev.question) for c in chosen):
            continue
        for cand in ranked:
            if len(chosen) >= MAX_SENTENCES or cand.score < FACET_CUTOFF * best.score:
                break
            if cand not in chosen and not _repeats(cand, chosen) and _covers(cand, facet, ev.question):
                chosen.append(cand)
                break
    return chosen


def _repeats(cand: Scored, chosen: list[Scored]) -> bool:
    return any(
        float(np.dot(cand.sentence.vec, c.sentence.vec)) > REPEAT_SIM or cand.sentence.display == c.sentence.display
        for c in chosen
    )


def _covers(c: Scored, facet, question: str) -> bool:
    if facet.terms:
        toks = set(lexical_tokens(c.sentence.text))
        if not any(t.token in toks for t in facet.terms):
            return False
    if facet.slot is not None:
        text = c.sentence.text
        return bool(surface_fillers(text, facet.slot, question) or fillers(annotate(text), facet.slot, question))
    return True


def with_leaning(chosen: list[Sentence], all_sentences: list[Sentence]) -> list[Sentence]:
    """Each sentence that opens by pointing back brings the sentence before it."""
    out = list(chosen)
    for s in chosen:
        cur = s
        for _ in range(2):
            if not _LEANS.match(cur.display):
                break
            prev = previous(all_sentences, cur)
            if prev is None or prev in out:
                break
            out.append(prev)
            cur = prev
    return out


def compose(chosen: list[Scored], ev: Evidence) -> tuple[str, list[Citation]]:
    """Order for reading: passages by their best sentence, sentences in document order; one [n] a passage."""
    passages = ev.passages
    sims = {id(c.sentence): c.sim for c in ev.sentences}
    sentences = with_leaning([c.sentence for c in chosen], ev.all_sentences)
    order: dict[int, int] = {}
    for s in sentences:  # the chosen ones first, best first, then the sentences they lean on
        order.setdefault(s.passage, len(order))
    by_passage: dict[int, list[Sentence]] = {}
    for s in sentences:
        by_passage.setdefault(s.passage, []).append(s)
    parts, citations = [], []
    for n, pi in enumerate(sorted(by_passage, key=lambda i: order[i]), start=1):
        group = sorted(by_passage[pi], key=lambda s: s.start)
        quotes = [s.display for s in group]
        score = max(sims.get(id(s), 0.0) for s in group)
        citations.append(citation(n, passages[pi], quotes, score))
        parts.extend(with_marker(q, n) for q in quotes)
    return " ".join(parts), citations


# A final period that belongs to an abbreviation ("3:55 p.m.", "the U.S.", "etc.") stays with it.
_ABBREVIATION_END = re.compile(r"(?:\b(?:[A-Za-z]\.){2,}|\b(?:etc|ca|approx|Jr|Sr|Inc|Ltd|Co|Corp|St|vs|No)\.)$")


def with_marker(sentence: str, n: int) -> str:
    """The citation marker before the sentence's final stop: "... in 1905 [1]."."""
    s = sentence.rstrip()
    if s and s[-1] in ".!?" and not s.endswith("...") and not _ABBREVIATION_END.search(s):
        return f"{s[:-1]} [{n}]{s[-1]}"
    return f"{s} [{n}]"


def citation(n: int, p: Passage, quotes: list[str] | str, score: float) -> Citation:
    m = p.metadata

    def _text(v: object) -> str | None:
        # Ingest writes these as text, but a store filled by another writer may hold a volume as 24.
        return None if v is None or str(v).strip() == "" else str(v)

    quotes = [quotes] if isinstance(quotes, str) else quotes
    authors = authors_of(m)
    return Citation(
        n=n,
        doc_id=p.doc_id,
        chunk_id=p.chunk_id,
        title=str(m.get("title", p.doc_id)),
        authors=authors,
        year=m.get("year"),
        page=p.page,
        quote=quotes[0],
        quotes=quotes,
        score=round(score, 4),
        container=m.get("container"),
        volume=_text(m.get("volume")),
        issue=_text(m.get("issue")),
        pages=_text(m.get("pages")),
        doi=_text(m.get("doi")),
        source_type=_text(m.get("source_type")),
        url=m.get("url") or (f"https://doi.org/{m['doi']}" if m.get("doi") else None),
        ocr="ocr_confidence" in m,
    )
