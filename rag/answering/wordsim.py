"""Word-level similarity from the embedding model, for paraphrases the stemmer cannot see
(pilots ~ flight, win ~ winner). Vectors are cached per word for the life of the process."""

from __future__ import annotations

import threading

import numpy as np

from rag.embedding import Embedder

SOFT_MIN = 0.5  # below this a word pair counts as unrelated (measured: synonyms 0.55-0.75, unrelated 0.1-0.4)
_MAX_CACHE = 200_000


class WordVectors:
    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def vectors(self, words: list[str]) -> dict[str, np.ndarray]:
        missing = [w for w in dict.fromkeys(words) if w not in self._cache]
        if missing:
            vecs = self.embedder.encode_queries(missing, batch_size=256)
            with self._lock:
                if len(self._cache) > _MAX_CACHE:
                    self._cache.clear()
                self._cache.update(zip(missing, vecs, strict=True))
        return {w: self._cache[w] for w in words if w in self._cache}

    def best_match(self, word: str, candidates: list[str]) -> float:
        if not candidates:
            return 0.0
        vs = self.vectors([word, *candidates])
        q = vs.get(word)
        if q is None:
            return 0.0
        return max(float(np.dot(q, vs[c])) for c in candidates if c in vs)
