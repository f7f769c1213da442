"""BM25 over a set of segments with deletion marks, scored with statistics of the live rows.

Why segments: a rebuild from the store costs time in proportion to the whole store (at 1M chunks
about ten minutes of tokenising after every ingest); with segments a sync tokenises only the
chunks that changed, deletions are marks, and small segments are merged now and then. Scoring
reads each query term's postings and applies Lucene's BM25 with the current N, document
frequencies and average length over the live rows, so results do not depend on how the rows
happen to be split into segments.
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

        Per segment, each term's postings are scored in sequence (tf and row length are stored
        per posting) and summed per row with one bincount: no per-posting gathers or scatters.
        """
        q = Counter(lexical_tokens(query))
        if not q or not self.n_live or k <= 0:
            return []
        post: dict[str, list[tuple[Segment, tuple]]] = {}
        for term in q:
            got = [
                (s, p) for s in self.segments if (p := s.postings(term)) is not None and len(p[0])
            ]
            if got:
                post[term] = got
        if not post:
            return []
        weights = {}
        for term, got in post.items():
            df = sum(self._live(s, p[0]) for s, p in got)
            if df:
                weights[term] = q[term] * self.idf(df)
        c1 = K1 * (1 - B)
        c2 = K1 * B / self.avgdl
        hits: list[tuple[float, str]] = []
        for s in self.segments:
            rows_l, vals_l = [], []
            for term, w in weights.items():
                for seg, (rows, tf, dl) in post[term]:
                    if seg is s:
                        tf32 = tf.astype(np.float32)
                        # Lucene BM25 without the constant (k1 + 1), as bm25s computes it.
                        vals_l.append(w * tf32 / (tf32 + c1 + c2 * dl.astype(np.float32)))
                        rows_l.append(rows)
            if not rows_l:
                continue
            scores = np.bincount(
                np.concatenate(rows_l), weights=np.concatenate(vals_l), minlength=len(s)
            )
            if not self._full[s.name]:
                scores[~self.alive[s.name]] = 0.0
            cand = np.flatnonzero(scores > 0)
            if filters is not None and not filters.is_empty() and len(cand):
                cand = cand[self._passes(s, cand, filters)]
            if len(cand) > k:
                cand = cand[np.argpartition(-scores[cand], k - 1)[:k]]
            hits.extend((float(scores[i]), s.ids[i]) for i in cand)
        hits.sort(key=lambda h: (-h[0], h[1]))
        return [(cid, sc) for sc, cid in hits[:k]]

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
