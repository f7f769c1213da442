"""Metric definitions, kept free of I/O so they can be checked on hand-made cases."""

from __future__ import annotations

import re

import numpy as np

from rag.text import fold, split_sentences

_MARKER = re.compile(r"\[\d+\]")


def includes_all(text: str, needles: list[str]) -> bool:
    folded = fold(text)
    return all(fold(n) in folded for n in needles)


def first_hit_rank(chunk_texts: list[str], needles: list[str]) -> int | None:
    """Smallest k (1-based) whose top-k chunks together hold every needle; None if none does."""
    if not needles:
        return None
    for k in range(1, len(chunk_texts) + 1):
        if includes_all("\n".join(chunk_texts[:k]), needles):
            return k
    return None


def hit_at(rank: int | None, k: int) -> bool:
    return rank is not None and rank <= k


def reciprocal_rank(rank: int | None) -> float:
    return 1.0 / rank if rank else 0.0


def doc_recall(retrieved_doc_ids: list[str], gold: list[str], k: int) -> float | None:
    if not gold:
        return None
    top = set(retrieved_doc_ids[:k])
    return sum(1 for g in gold if g in top) / len(gold)


def cited_sentence_share(answer_text: str) -> float:
    sents = [s.text for s in split_sentences(answer_text)]
    if not sents:
        return 0.0
    return sum(1 for s in sents if _MARKER.search(s)) / len(sents)


def percentile(values: list[float], q: float) -> float | None:
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return round(float(np.percentile(vals, q)), 2)


def mean(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(sum(vals) / len(vals), 4) if vals else None
