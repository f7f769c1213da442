"""BM25 over chunk texts (bm25s), persisted next to the store and rebuilt when the store changes."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from rag.text import lexical_tokens

LEXICAL_VERSION = "2"  # bump when lexical_tokens changes: saved indexes are then rebuilt


class LexicalIndex:
    def __init__(self, ids: list[str], bm25, generation: str, doc_ids: list[str], years: list[int]):
        self.ids = ids
        self.bm25 = bm25
        self.generation = generation
        self.doc_ids = np.array(doc_ids, dtype=object)
        self.years = np.array(years, dtype=np.int32)  # 0 = unknown
        self._vocab = getattr(bm25, "vocab_dict", None) or {}

    @classmethod
    def build(
        cls, ids: list[str], texts: list[str], generation: str, doc_ids: list[str], years: list[int | None]
    ) -> LexicalIndex:
        import bm25s

        bm25 = bm25s.BM25(k1=1.2, b=0.75)
        tokens = [lexical_tokens(t) or ["\u2205"] for t in texts] or [["\u2205"]]
        bm25.index(tokens, show_progress=False)
        return cls(list(ids), bm25, generation, list(doc_ids), [y or 0 for y in years])

    def save(self, directory: Path) -> None:
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".lexical-", dir=directory.parent))
        self.bm25.save(str(tmp), show_progress=False)
        (tmp / "ids.json").write_text(
            json.dumps({"ids": self.ids, "doc_ids": self.doc_ids.tolist(), "years": self.years.tolist()})
        )
        (tmp / "generation.txt").write_text(self.generation)
        (tmp / "version.txt").write_text(LEXICAL_VERSION)
        old = directory.with_name(directory.name + ".old")
        if directory.exists():
            os.replace(directory, old)
        os.replace(tmp, directory)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex | None:
        import bm25s

        try:
            if (directory / "version.txt").read_text().strip() != LEXICAL_VERSION:
                return None
            generation = (directory / "generation.txt").read_text().strip()
            rows = json.loads((directory / "ids.json").read_text())
            bm25 = bm25s.BM25.load(str(directory), show_progress=False)
            return cls(rows["ids"], bm25, generation, rows["doc_ids"], rows["years"])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing or from an older version: the caller rebuilds it

    def term_known(self, token: str) -> bool:
        return token in self._vocab

    def doc_freq(self, token: str) -> int:
        """How many chunks contain the token (the CSC column length in bm25s's score matrix)."""
        tid = self._vocab.get(token)
        if tid is None:
            return 0
        indptr = self.bm25.scores["indptr"]
        return int(indptr[tid + 1] - indptr[tid])

    def mask(self, filters) -> np.ndarray | None:
        if filters is None or filters.is_empty():
            return None
        m = np.ones(len(self.ids), dtype=bool)
        if filters.doc_ids:
            m &= np.isin(self.doc_ids, filters.doc_ids)
        if filters.year_min is not None:
            m &= (self.years >= filters.year_min) & (self.years > 0)
        if filters.year_max is not None:
            m &= (self.years <= filters.year_max) & (self.years > 0)
        return m

    def search(self, query: str, k: int, filters=None) -> list[tuple[str, float]]:
        toks = [t for t in lexical_tokens(query) if t in self._vocab]
        if not toks or not self.ids:
            return []
        scores = self.bm25.get_scores(toks)
        m = self.mask(filters)
        if m is not None:
            scores = np.where(m, scores, 0.0)
        k = min(k, len(self.ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]


def build_from_store(store, settings, save: bool = True) -> LexicalIndex:
    """Lexical index over every chunk in the store, stamped with the store's generation."""
    generation = store.generation()
    col = store.chunks()
    ids: list[str] = []
    texts: list[str] = []
    doc_ids: list[str] = []
    years: list[int | None] = []
    total = col.count()
    page = 20000
    for off in range(0, total, page):
        got = col.get(include=["documents", "metadatas"], limit=page, offset=off)
        ids.extend(got["ids"])
        for d, m in zip(got["documents"], got["metadatas"], strict=True):
            texts.append(f"{m.get('title', '')}\n{d}")
            doc_ids.append(m.get("doc_id", ""))
            years.append(m.get("year"))
    index = LexicalIndex.build(ids, texts, generation, doc_ids, years)
    if save:
        with contextlib.suppress(OSError):  # a read-only replica keeps its index in memory
            index.save(settings.lexical_dir)
    return index
