"""One immutable slice of the BM25 index: the postings of the chunks one sync added.

Postings are stored term-major (CSC: for each term, the rows holding it and their term
frequency), which is what a query reads; arrays live in .npy files opened memory-mapped, so
several worker processes on one host share the page cache instead of each holding a copy.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_ARRAYS = ("lengths", "years", "source_idx", "indptr", "rows", "tf", "dl")


@dataclass
class Segment:
    name: str
    ids: list[str]
    sources: list[str]  # distinct source keys; source_idx points into it
    doc_ids: np.ndarray  # object, per row
    years: np.ndarray  # int32 per row, 0 = unknown
    source_idx: np.ndarray  # int32 per row
    lengths: np.ndarray  # int32 tokens per row
    vocab: dict[str, int]
    indptr: np.ndarray  # int64, len(vocab) + 1
    rows: np.ndarray  # int32 posting rows, grouped by term
    tf: np.ndarray  # uint16 term frequency per posting
    dl: np.ndarray | None = (
        None  # uint16 length of the posting's row: a query reads it in sequence, no gather
    )

    _summary: dict[tuple, tuple[float, np.ndarray]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.dl is None:
            self.dl = np.minimum(
                np.asarray(self.lengths)[self.rows], np.iinfo(np.uint16).max
            ).astype(np.uint16)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        sources: Sequence[str],
        doc_ids: Sequence[str],
        years: Sequence[int | None],
        tokens: Sequence[Sequence[str]],
    ) -> Segment:
        vocab: dict[str, int] = {}
        term_parts: list[np.ndarray] = []
        row_parts: list[np.ndarray] = []
        lengths = np.zeros(len(ids), dtype=np.int32)
        for r, toks in enumerate(tokens):
            lengths[r] = len(toks)
            if toks:
                term_parts.append(
                    np.fromiter(
                        (vocab.setdefault(t, len(vocab)) for t in toks), np.int32, len(toks)
                    )
                )
                row_parts.append(np.full(len(toks), r, dtype=np.int32))
        terms = np.concatenate(term_parts) if term_parts else np.zeros(0, np.int32)
        rows = np.concatenate(row_parts) if row_parts else np.zeros(0, np.int32)
        # One posting per (term, row) pair, its count the term frequency.
        n = max(1, len(ids))
        pairs, tf = np.unique(terms.astype(np.int64) * n + rows, return_counts=True)
        return cls._from_postings(
            list(ids),
            list(sources),
            np.array(list(doc_ids), dtype=object),
            np.array([y or 0 for y in years], dtype=np.int32),
            lengths,
            vocab,
            pairs // n,
            pairs % n,
            tf,
        )

    @classmethod
    def _from_postings(
        cls,
        ids: list[str],
        sources: list[str],
        doc_ids: np.ndarray,
        years: np.ndarray,
        lengths: np.ndarray,
        vocab: dict[str, int],
        terms: np.ndarray,
        rows: np.ndarray,
        tf: np.ndarray,
    ) -> Segment:
        """A segment from per-row data and unordered postings (term id, row, tf): sorted term-major here."""
        order = np.argsort(terms.astype(np.int64) * max(1, len(ids)) + rows, kind="stable")
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(terms, minlength=len(vocab)), out=indptr[1:])
        uniq_sources, source_idx = np.unique(np.array(sources, dtype=object), return_inverse=True)
        return cls(
            name=uuid.uuid4().hex[:16],
            ids=ids,
            sources=[str(s) for s in uniq_sources],
            doc_ids=doc_ids,
            years=years.astype(np.int32),
            source_idx=source_idx.astype(np.int32),
            lengths=lengths.astype(np.int32),
            vocab=vocab,
            indptr=indptr,
            rows=rows[order].astype(np.int32),
            tf=np.minimum(tf[order], np.iinfo(np.uint16).max).astype(np.uint16),
        )

    def term_summary(self, term: str, m: int, impact) -> tuple[float, np.ndarray]:
        """(largest impact(tf, dl), the m rows where it is largest, sorted) of the term's postings:
        its exact BM25 bound and its threshold seeds. Cached per statistics, since a segment
        never changes and a common term's postings are long."""
        key = (term, m, impact)
        got = self._summary.get(key)
        if got is None:
            p = self.postings(term)
            if p is None or not len(p[0]):
                got = (0.0, np.zeros(0, dtype=np.int32))
            else:
                unit = impact.unit(p[1], p[2])
                at = np.argpartition(-unit, m - 1)[:m] if len(unit) > m else np.arange(len(unit))
                got = (float(unit.max()), np.sort(np.asarray(p[0])[at]))
            if len(self._summary) > 100_000:  # entries of statistics long gone
                self._summary.clear()
            self._summary[key] = got
        return got

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(rows, term frequencies, row lengths) of the term's postings, or None when absent."""
        tid = self.vocab.get(term)
        if tid is None:
            return None
        a, b = int(self.indptr[tid]), int(self.indptr[tid + 1])
        return self.rows[a:b], self.tf[a:b], self.dl[a:b]

    @classmethod
    def merge(cls, parts: Sequence[tuple[Segment, np.ndarray]]) -> Segment:
        """One segment holding the kept rows of several: postings are remapped, never re-tokenised."""
        vocab: dict[str, int] = {}
        terms_l, rows_l, tf_l = [], [], []
        ids: list[str] = []
        sources: list[str] = []
        doc_ids, years, lengths = [], [], []
        base = 0
        for seg, keep in parts:
            keep = np.asarray(keep, dtype=bool)
            tmap = np.fromiter(
                (vocab.setdefault(t, len(vocab)) for t in seg.vocab), np.int64, len(seg.vocab)
            )
            new_row = np.cumsum(keep, dtype=np.int64) - 1 + base
            terms = np.repeat(np.arange(len(seg.vocab), dtype=np.int64), np.diff(seg.indptr))
            live = keep[seg.rows]
            terms_l.append(tmap[terms[live]])
            rows_l.append(new_row[seg.rows[live]])
            tf_l.append(np.asarray(seg.tf)[live])
            kept = np.flatnonzero(keep)
            ids.extend(seg.ids[i] for i in kept)
            sources.extend(seg.sources[i] for i in np.asarray(seg.source_idx)[kept])
            doc_ids.append(seg.doc_ids[kept])
            years.append(np.asarray(seg.years)[kept])
            lengths.append(np.asarray(seg.lengths)[kept])
            base += len(kept)
        return cls._from_postings(
            ids,
            sources,
            np.concatenate(doc_ids) if doc_ids else np.zeros(0, dtype=object),
            np.concatenate(years) if years else np.zeros(0, np.int32),
            np.concatenate(lengths) if lengths else np.zeros(0, np.int32),
            vocab,
            np.concatenate(terms_l) if terms_l else np.zeros(0, np.int64),
            np.concatenate(rows_l) if rows_l else np.zeros(0, np.int64),
            np.concatenate(tf_l) if tf_l else np.zeros(0, np.uint16),
        )

    # ------------------------------------------------------------ disk
    def save(self, parent: Path) -> None:
        """Written under a temporary name and renamed: a reader never sees half a segment."""
        final = parent / f"seg-{self.name}"
        tmp = parent / f".tmp-seg-{self.name}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for a in _ARRAYS:
            np.save(tmp / f"{a}.npy", getattr(self, a), allow_pickle=False)
        (tmp / "rows.json").write_text(
            json.dumps(
                {
                    "ids": self.ids,
                    "sources": self.sources,
                    "doc_ids": self.doc_ids.tolist(),
                    "vocab": list(self.vocab),
                }
            )
        )
        os.replace(tmp, final)

    @classmethod
    def load(cls, parent: Path, name: str) -> Segment:
        d = parent / f"seg-{name}"
        meta = json.loads((d / "rows.json").read_text())
        # Plain ndarray views of the maps: np.memmap runs Python hooks on every slice and result.
        arrays = {
            a: np.asarray(np.load(d / f"{a}.npy", mmap_mode="r", allow_pickle=False))
            for a in _ARRAYS
        }
        return cls(
            name=name,
            ids=meta["ids"],
            sources=meta["sources"],
            doc_ids=np.array(meta["doc_ids"], dtype=object),
            vocab={t: i for i, t in enumerate(meta["vocab"])},
            **arrays,
        )
