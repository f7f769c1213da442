"""BM25 on tantivy: agreement with bm25s, filters, deletions, and an index that folds when reopened."""

from __future__ import annotations

import numpy as np
import pytest

from rag.lexical import LexicalIndex, analyzer
from rag.retrieval.filters import Filters
from tests.lexical.conftest import fill

K1 = 1.2  # tantivy scores carry Lucene's constant (k1 + 1); bm25s leaves it out

TEXTS = [
    "The Koan Maru carried repatriates from Nakhodka to Maizuru in 1953.",
    "Soviet camps in Siberia held Japanese prisoners of war after 1945.",
    "The Khabarovsk trial of 1949 judged Japanese soldiers for germ warfare.",
    "Japanese technicians stayed in Manchuria to serve the Chinese Communist Party.",
    "Repatriation ships such as the Koan Maru and Hikawa Maru sailed to Maizuru.",
    "The Fushun War Criminals Management Centre held Japanese war criminals.",
    "Siberia, Siberia and again Siberia: the camps were cold and the work was hard.",
    "Trials at Shenyang and Taiyuan in 1956 sentenced forty-five Japanese.",
]
QUERIES = ["Koan Maru Maizuru", "Siberia camps", "Japanese war criminals trial", "1953", "unknownword"]


def rows(texts: list[str], keep=lambda i: True) -> list[dict]:
    return [
        {"chunk_id": f"d{i:04d}", "text": t, "source": f"src{i % 3}", "doc_id": f"doc{i % 3}", "year": 1950 + i % 10}
        for i, t in enumerate(texts)
        if keep(i)
    ]


def bm25s_index(texts: list[str]):
    import bm25s

    ref = bm25s.BM25(k1=K1, b=0.75, method="lucene")
    ref.index([analyzer.tokens(t) for t in texts], show_progress=False)
    return ref


def bm25s_scores(ref, query: str) -> np.ndarray:
    toks = [t for t in analyzer.tokens(query) if t in ref.vocab_dict]
    return ref.get_scores(toks) if toks else np.zeros(ref.scores["num_docs"])


@pytest.mark.parametrize("query", QUERIES)
def test_short_chunks_score_as_bm25s_lucene(new_index, query):
    """Same tokens, k1, b and Lucene idf. Lengths this short are stored exactly (tantivy keeps
    lengths in one byte, exact below 40 tokens), so scores agree to float32 precision."""
    got = dict(new_index(rows(TEXTS)).search(query, k=len(TEXTS)))
    for i, e in enumerate(bm25s_scores(bm25s_index(TEXTS), query)):
        assert got.get(f"d{i:04d}", 0.0) / (K1 + 1) == pytest.approx(float(e), rel=1e-5, abs=1e-6), i


def test_long_chunks_rank_as_bm25s_within_length_rounding(new_index):
    """Tolerance stated: tantivy rounds document lengths above 40 tokens to one byte (as Lucene
    does), so on 3-400-token chunks each score is within 6 % of bm25s's and the top 10 share at
    least 9 of 10 ids on average (measured: 5.1 %, 0.94)."""
    rng = np.random.default_rng(5)
    vocab = ["".join(rng.choice(list("bcdfghjklmnpqrstvwxz"), 6)) for _ in range(300)]
    p = 1.0 / (np.arange(len(vocab)) + 1.0)
    texts = [" ".join(rng.choice(vocab, rng.integers(3, 400), p=p / p.sum())) for _ in range(3000)]
    index, ref = new_index(rows(texts)), bm25s_index(texts)
    overlap = []
    for q in (" ".join(rng.choice(vocab, rng.integers(2, 7))) for _ in range(60)):
        want = bm25s_scores(ref, q)
        got = index.search(q, 10)
        for cid, score in got:
            assert score / (K1 + 1) == pytest.approx(want[int(cid[1:])], rel=0.06)
        overlap.append(len({c for c, _ in got} & {f"d{i:04d}" for i in np.argsort(-want)[:10]}) / 10)
    assert np.mean(overlap) >= 0.9


def test_top_k_is_ordered_and_cut(new_index):
    hits = new_index(rows(TEXTS)).search("Japanese", 3)
    assert len(hits) == 3
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)


def test_filters_by_document_and_year(new_index):
    index = new_index(rows(TEXTS) + [{"chunk_id": "undated", "text": "Japanese", "source": "x", "doc_id": "doc0", "year": None}])
    hits = index.search("Japanese", 10, Filters(doc_ids=["doc0"]))
    assert {c for c, _ in hits} == {"d0003", "undated"}
    hits = index.search("Japanese", 10, Filters(year_min=1953, year_max=1955))
    assert {c for c, _ in hits} == {"d0003", "d0005"}, "a chunk without a year passes no year bound"
    both = index.search("Japanese", 10, Filters(doc_ids=["doc2"], year_min=1952))
    assert {c for c, _ in both} == {"d0002", "d0005"}
    unfiltered = dict(index.search("Japanese", 10))
    assert all(unfiltered[c] == s for c, s in hits), "a filter does not move scores"


def test_deleted_sources_vanish_from_hits_and_counts(new_index):
    index = new_index(rows(TEXTS))
    writer = index.writer(heap_mb=32, threads=1)
    writer.delete_documents_by_term("source", "src1\x1fh")
    writer.commit()
    writer.wait_merging_threads()
    del writer
    index.reload()
    ref = new_index(rows(TEXTS, keep=lambda i: i % 3 != 1), name="ref")
    assert len(index) == len(ref) == 5
    assert index.chunk_ids() == ref.chunk_ids()
    assert index.sources() == {"src0": {"h": 3}, "src2": {"h": 2}}
    siberia = analyzer.tokens("Siberia")[0]
    assert index.doc_freq(siberia) == ref.doc_freq(siberia) == 1  # the term dictionary still says 2
    for q in QUERIES:
        assert [c for c, _ in index.search(q, 8)] == [c for c, _ in ref.search(q, 8)]


def test_a_reopened_index_still_folds_and_stems(tmp_path):
    """Analyzers live in memory only: a reopened index must get ours again, for writing and reading."""
    fill(LexicalIndex(tmp_path / "lex"), rows(TEXTS[:2]))
    again = LexicalIndex(tmp_path / "lex")
    fill(again, [{"chunk_id": "new", "text": "Satō saw the KŌAN MARU repatriating internees.", "source": "n", "doc_id": "n", "year": 1954}])
    assert again.search("koan maru", 1)[0][0] in {"d0000", "new"}
    assert again.search("Sato repatriated", 1)[0][0] == "new"
    assert again.term_known("koan") and again.term_known(analyzer.tokens("repatriation")[0])
    assert not again.term_known("zzzz")
    assert again.search("KŌAN maru", 3) == again.search("koan Maru", 3)


def test_empty_index_and_empty_query(new_index, tmp_path):
    assert LexicalIndex(tmp_path / "empty").search("Koan Maru", 5) == []
    assert len(LexicalIndex()) == 0
    index = new_index(rows(TEXTS))
    assert index.search("", 5) == []
    assert index.search("the and of", 5) == []
    assert index.search("Koan", 0) == []
