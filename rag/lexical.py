"""BM25 over chunk texts (bm25s), persisted next to the store and rebuilt when the store changes."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from rag.text import lexical_tokens


class LexicalIndex:
    def __init__(self, ids: list[str], bm25, generation: str):
        self.ids = ids
        self.bm25 = bm25
        self.generation = generation
        self._pos = {cid: i for i, cid in enumerate(ids)}
        vocab = getattr(bm25, "vocab_dict", None) or {}
        self._vocab = vocab

    @classmethod
    def build(cls, ids: list[str], texts: list[str], generation: str) -> LexicalIndex:
        import bm25s

        bm25 = bm25s.BM25(k1=1.2, b=0.75)
        tokens = [lexical_tokens(t) or ["\u2205"] for t in texts]
        if not tokens:
            tokens = [["\u2205"]]
        bm25.index(tokens, show_progress=False)
        return cls(list(ids), bm25, generation)

    def save(self, directory: Path) -> None:
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".lexical-", dir=directory.parent))
        self.bm25.save(str(tmp), show_progress=False)
        (tmp / "ids.json").write_text(json.dumps(self.ids))
        (tmp / "generation.txt").write_text(self.generation)
        old = directory.with_name(directory.name + ".old")
        if directory.exists():
            os.replace(directory, old)
        os.replace(tmp, directory)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex | None:
        import bm25s

        try:
            generation = (directory / "generation.txt").read_text().strip()
            ids = json.loads((directory / "ids.json").read_text())
            bm25 = bm25s.BM25.load(str(directory), show_progress=False)
        except (OSError, ValueError):
            return None
        return cls(ids, bm25, generation)

    def term_known(self, token: str) -> bool:
        return token in self._vocab

    def doc_freq(self, token: str) -> int:
        """How many chunks contain the token (the CSC column length in bm25s's score matrix)."""
        tid = self._vocab.get(token)
        if tid is None:
            return 0
        indptr = self.bm25.scores["indptr"]
        return int(indptr[tid + 1] - indptr[tid])

    def search(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        toks = [t for t in lexical_tokens(query) if t in self._vocab]
        if not toks or not self.ids:
            return []
        scores = self.bm25.get_scores(toks)
        if allowed is not None:
            mask = np.zeros(len(self.ids), dtype=bool)
            for cid in allowed:
                p = self._pos.get(cid)
                if p is not None:
                    mask[p] = True
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(self.ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]
