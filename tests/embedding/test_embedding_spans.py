"""Embedder.encode_with_spans: a chunk's vector and its sentences' vectors from one forward pass."""

from __future__ import annotations

import numpy as np
import pytest

from rag.embedding import get_embedder
from rag.settings import Settings


@pytest.fixture(scope="module")
def embedder():
    return get_embedder(Settings().embedding_model, 1)


def test_text_vectors_equal_encode_and_span_vectors_are_unit(embedder):
    texts = [
        "Japan Still Has Cadres\nThe Soviet Union held Japanese internees. Many were sent to Siberia.",
        "短い文です。もう一つの文です。",
    ]
    spans = [[(23, 64), (65, 91)], [(0, 6), (6, 14)]]
    vecs, per_text = embedder.encode_with_spans(texts, spans)
    assert np.min(np.sum(vecs * embedder.encode(texts), axis=1)) > 1 - 1e-5
    for v in per_text:
        assert v.shape == (2, embedder.dim)
        assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    # In context, a sentence's vector stays closest to that sentence encoded alone.
    alone = embedder.encode([texts[0][a:b] for a, b in spans[0]])
    sims = per_text[0] @ alone.T
    assert sims[0, 0] > sims[0, 1] and sims[1, 1] > sims[1, 0]


def test_a_span_past_the_window_is_encoded_on_its_own(embedder):
    head = "word " * 400  # far beyond 256 word pieces
    tail = "The last sentence lies past the window."
    text = head + tail
    _, (v,) = embedder.encode_with_spans([text], [[(len(head), len(text))]])
    assert float(v[0] @ embedder.encode([tail])[0]) > 1 - 1e-5
