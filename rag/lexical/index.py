"""BM25 over a set of segments with deletion marks, scored with statistics of the live rows.

Why segments: a rebuild from the store costs time in proportion to the whole store (at 1M chunks
about ten minutes of tokenising after every ingest); with segments a sync tokenises only the
chunks that changed, deletions are marks, and small segments are merged now and then. Scoring
reads each query term's postings and applies Lucene's BM25 with the current N, document
frequencies and average length over the live rows, so results do not depend on how the rows
happen to be split into segments. Queries prune with MaxScore (see `search`): the top k is exact,
but the long postings of common terms are read only for rows that can still make it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from rag.lexical.segment import Segment
from rag.text import lexical_tokens

K1, B = 1.2, 0.75
MAX_SEGMENTS = 8
MAX_DELETED_SHARE = 0.3
SEED_ROWS = 64  # per term and segment: its highest-impact rows, scored first for a threshold
DENSE_LOOKUP = 32  # candidates above 1/32 of a segment's rows: dense lookups
DENSE_SHARE = 0.125  # eager postings above this share of a segment's rows: one dense bincount


@dataclass(frozen=True)
class _Impact:
    """Lucene BM25 per posting without the constant (k1 + 1), as bm25s computes it."""

    c1: float
    c2: float

    def __call__(self, w: float, tf: np.ndarray, dl: np.ndarray) -> np.ndarray:
        tf32 = tf.astype(np.float32)
        return w * tf32 / (tf32 + self.c1 + self.c2 * dl.astype(np.float32))

    def unit(self, tf: np.ndarray, dl: np.ndarray) -> np.ndarray:
        return self(1.0, tf, dl)


@dataclass
class _Term:
    name: str
    w: float  # query count x idf
    postings: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # segment name -> postings


def _accumulate(parts, imp: _Impact, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows holding any of these terms, and their summed contributions (float64)."""
    rows = np.concatenate([p[0] for _, p in parts])
    vals = np.concatenate([imp(w, p[1], p[2]) for w, p in parts])
    if len(rows) > DENSE_SHARE * n_rows:
        acc = np.bincount(rows, weights=vals, minlength=n_rows)
        cand = np.flatnonzero(acc > 0)
        return cand, acc[cand]
    cand, inv = np.unique(rows, return_inverse=True)
    return cand, np.bincount(inv, weights=vals, minlength=len(cand))


def _lookup(cand: np.ndarray, w: float, postings, imp: _Impact, n_rows: int) -> np.ndarray:
    """The term's contribution to each candidate row (0 where absent). Few candidates: binary
    search in the term's row-sorted postings; many: scatter into a dense row array and gather,
    which at 1M rows is several times cheaper than 100k binary searches."""
    rows, tf, dl = postings
    if not len(cand) or not len(rows):
        return np.zeros(len(cand))
    if len(cand) > n_rows // DENSE_LOOKUP:
        dense = np.zeros(n_rows, dtype=np.float32)
        dense[rows] = imp(w, tf, dl)
        return dense[cand].astype(np.float64)
    out = np.zeros(len(cand))
    pos = np.minimum(np.searchsorted(rows, cand), len(rows) - 1)
    found = rows[pos] == cand
    if found.any():
        at = pos[found]
        out[found] = imp(w, tf[at], dl[at])
    return out


@dataclass
class LexicalIndex:
    generation: str = "none"
    collection_id: str = ""
    segments: list[Segment] = field(default_factory=list)
    alive: dict[str, np.ndarray] = field(default_factory=dict)  # segment name -> bool per row
    source_hash: dict[str, str] = field(default_factory=dict)  # source key -> content hash indexed

    def __post_init__(self) -> None:
        self._refresh_stats()

    # ------------------------------------------------------------ bookkeeping
    def _refresh_stats(self) -> None:
        n = 0
        total = 0
        for s in self.segments:
            a = self.alive.setdefault(s.name, np.ones(len(s), dtype=bool))
            n += int(a.sum())
            total += int(np.asarray(s.lengths)[a].sum())
        self.n_live = n
        self.avgdl = total / n if n else 1.0
        self._full = {s.name: bool(self.alive[s.name].all()) for s in self.segments}

    def __len__(self) -> int:
        return self.n_live

    def chunk_ids(self) -> set[str]:
        """Ids of the live rows (for checks; a query never needs them all)."""
        return {s.ids[i] for s in self.segments for i in np.flatnonzero(self.alive[s.name])}

    def add(self, segment: Segment, source_hash: dict[str, str]) -> None:
        if len(segment):
            self.segments.append(segment)
            self.alive[segment.name] = np.ones(len(segment), dtype=bool)
        self.source_hash.update(source_hash)
        self._refresh_stats()

    def remove_sources(self, sources: set[str]) -> int:
        """Mark every row of these sources deleted; the rows stay on disk until a merge."""
        removed = 0
        for s in self.segments:
            hit = [i for i, name in enumerate(s.sources) if name in sources]
            if not hit:
                continue
            rows = np.isin(np.asarray(s.source_idx), hit)
            removed += int((self.alive[s.name] & rows).sum())
            self.alive[s.name] &= ~rows
        for src in sources:
            self.source_hash.pop(src, None)
        self._refresh_stats()
        return removed

    def compact(self) -> bool:
        """Merge small segments and rewrite ones that are mostly deleted: True when it changed any."""
        drop = {s.name for s in self.segments if not self.alive[s.name].any()}
        heavy = {
            s.name
            for s in self.segments
            if s.name not in drop and 1 - self.alive[s.name].mean() > MAX_DELETED_SHARE
        }
        live = sorted((s for s in self.segments if s.name not in drop), key=len)
        merge = set(heavy)
        if len(live) > MAX_SEGMENTS:
            merge |= {s.name for s in live[: len(live) - MAX_SEGMENTS // 2 + 1]}
        if not drop and not merge:
            return False
        keep = [s for s in self.segments if s.name not in drop and s.name not in merge]
        parts = [(s, self.alive[s.name]) for s in self.segments if s.name in merge]
        if parts:
            keep.append(Segment.merge(parts))
        self.segments = keep
        self.alive = {s.name: self.alive.get(s.name, np.ones(len(s), dtype=bool)) for s in keep}
        self._refresh_stats()
        return True

    # ------------------------------------------------------------ queries
    def term_known(self, token: str) -> bool:
        return self.doc_freq(token) > 0

    def doc_freq(self, token: str) -> int:
        """How many live chunks contain the token."""
        return sum(
            self._live(s, p[0]) for s in self.segments if (p := s.postings(token)) is not None
        )

    def _live(self, s: Segment, rows: np.ndarray) -> int:
        """How many of these posting rows of segment s are not deleted."""
        return len(rows) if self._full[s.name] else int(self.alive[s.name][rows].sum())

    def idf(self, df: int) -> float:
        return math.log(1 + (self.n_live - df + 0.5) / (df + 0.5))

    def search(self, query: str, k: int, filters=None) -> list[tuple[str, float]]:
        """Top k (chunk_id, BM25 score) among live rows that pass the filters; zero scores omitted.

        Exact top k with MaxScore pruning, because at 1M chunks the common query terms
        ("Japanese", "Soviet") have postings in half the store and scoring them all costs tens
        of ms: a threshold theta (the k-th best full score among each term's highest-impact rows)
        is taken first; the low-weight terms whose upper bounds sum below theta cannot lift a row
        into the top k on their own, so only rows holding a high-weight term are candidates,
        and the low-weight terms are looked up for those rows alone (postings are sorted by
        row). Scores equal the unpruned ones; with no useful theta every term is scored in full.
        """
        q = Counter(lexical_tokens(query))
        if not q or not self.n_live or k <= 0:
            return []
        terms: dict[str, _Term] = {}
        for term in q:
            got = [
                (s, p) for s in self.segments if (p := s.postings(term)) is not None and len(p[0])
            ]
            df = sum(self._live(s, p[0]) for s, p in got)
            if df:
                terms[term] = _Term(term, q[term] * self.idf(df), {s.name: p for s, p in got})
        if not terms:
            return []
        imp = _Impact(K1 * (1 - B), K1 * B / self.avgdl)
        active = filters is not None and not filters.is_empty()
        theta = self._seed_threshold(terms, k, imp, filters if active else None)
        # Contributions are float32: a bound (float64) may sit up to ~1e-7 below what a row gets.
        cut = theta * (1 - 1e-5)
        # Each term's largest contribution to any row (deleted rows included: still a bound).
        bound = {
            t: terms[t].w
            * max(
                s.term_summary(t, SEED_ROWS, imp)[0]
                for s in self.segments
                if s.name in terms[t].postings
            )
            for t in terms
        }
        lazy: list[str] = []  # low-weight terms whose bounds together stay below theta
        for term in sorted(terms, key=bound.get):
            if sum(bound[t] for t in [*lazy, term]) >= cut:
                break
            lazy.append(term)
        eager = [t for t in terms if t not in lazy]
        lazy.reverse()  # largest bound first, so each lookup lets the next one prune harder
        rest = [sum(bound[t] for t in lazy[i:]) for i in range(len(lazy))]
        hits: list[tuple[float, str]] = []
        for s in self.segments:
            parts = [
                (terms[t].w, terms[t].postings[s.name])
                for t in eager
                if s.name in terms[t].postings
            ]
            if not parts:
                continue
            cand, score = _accumulate(parts, imp, len(s))
            if not self._full[s.name]:
                live = self.alive[s.name][cand]
                cand, score = cand[live], score[live]
            for t, more in zip(lazy, rest, strict=True):
                keep = score + more >= cut
                if not keep.all():
                    cand, score = cand[keep], score[keep]
                if s.name in terms[t].postings:
                    score = score + _lookup(
                        cand, terms[t].w, terms[t].postings[s.name], imp, len(s)
                    )
            if active and len(cand):
                ok = self._passes(s, cand, filters)
                cand, score = cand[ok], score[ok]
            if len(cand) > k:
                top = np.argpartition(-score, k - 1)[:k]
                cand, score = cand[top], score[top]
            hits.extend((float(v), s.ids[i]) for i, v in zip(cand, score, strict=True))
        hits.sort(key=lambda h: (-h[0], h[1]))
        return [(cid, sc) for sc, cid in hits[:k]]

    def _seed_threshold(self, terms: dict[str, _Term], k: int, imp: _Impact, filters) -> float:
        """A lower bound on the final k-th score: the k-th best full score among a few hundred
        likely rows (each term's highest-impact rows); 0 when they are fewer than k."""
        if len(terms) < 2:
            return 0.0  # a single term is scored in full anyway
        found: list[np.ndarray] = []
        for s in self.segments:
            mine = [t for t in terms.values() if s.name in t.postings]
            if not mine:
                continue
            cand = np.unique(
                np.concatenate([s.term_summary(t.name, SEED_ROWS, imp)[1] for t in mine])
            )
            if not self._full[s.name]:
                cand = cand[self.alive[s.name][cand]]
            if filters is not None and len(cand):
                cand = cand[self._passes(s, cand, filters)]
            score = np.zeros(len(cand))
            for t in mine:
                score += _lookup(cand, t.w, t.postings[s.name], imp, len(s))
            found.append(score)
        scores = np.concatenate(found) if found else np.zeros(0)
        if len(scores) < k:
            return 0.0
        return float(np.partition(scores, len(scores) - k)[len(scores) - k])

    @staticmethod
    def _passes(s: Segment, rows: np.ndarray, filters) -> np.ndarray:
        ok = np.ones(len(rows), dtype=bool)
        if filters.doc_ids:
            ok &= np.isin(s.doc_ids[rows], filters.doc_ids)
        years = np.asarray(s.years)[rows]
        if filters.year_min is not None:
            ok &= (years >= filters.year_min) & (years > 0)
        if filters.year_max is not None:
            ok &= (years <= filters.year_max) & (years > 0)
        return ok
