"""BM25 scoring over segments: checked against bm25s, and independent of how rows are split."""

from __future__ import annotations

import numpy as np
import pytest

from rag.lexical import LexicalIndex
from rag.lexical.segment import Segment
from rag.retrieval.filters import Filters
from rag.text import lexical_tokens

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
QUERIES = [
    "Koan Maru Maizuru",
    "Siberia camps",
    "Japanese war criminals trial",
    "1953",
    "unknownword",
]


def rows(n: int, offset: int = 0) -> dict:
    idx = range(offset, offset + n)
    return {
        "ids": [f"d{i}" for i in idx],
        "sources": [f"src{i % 3}" for i in idx],
        "doc_ids": [f"doc{i % 3}" for i in idx],
        "years": [1950 + i for i in idx],
        "tokens": [lexical_tokens(TEXTS[i]) for i in idx],
    }


def one_segment() -> LexicalIndex:
    r = rows(len(TEXTS))
    return LexicalIndex(segments=[Segment.build(**r)])


def split_segments() -> LexicalIndex:
    parts = [(0, 3), (3, 1), (4, 4)]
    return LexicalIndex(segments=[Segment.build(**rows(n, off)) for off, n in parts])


@pytest.mark.parametrize("query", QUERIES)
def test_scores_match_bm25s_lucene(query):
    """Same tokens, same k1/b and Lucene idf: bm25s (a maintained implementation) gives the same scores."""
    import bm25s

    ref = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    ref.index([lexical_tokens(t) for t in TEXTS], show_progress=False)
    toks = [t for t in lexical_tokens(query) if t in ref.vocab_dict]
    expected = ref.get_scores(toks) if toks else np.zeros(len(TEXTS))
    got = dict(one_segment().search(query, k=len(TEXTS)))
    for i, e in enumerate(expected):
        assert got.get(f"d{i}", 0.0) == pytest.approx(float(e), rel=1e-5, abs=1e-6), (query, i)


@pytest.mark.parametrize("query", QUERIES)
def test_split_into_segments_scores_the_same(query):
    a, b = one_segment().search(query, 8), split_segments().search(query, 8)
    assert [i for i, _ in a] == [i for i, _ in b]
    assert [s for _, s in a] == pytest.approx([s for _, s in b], rel=1e-5)


def test_top_k_is_ordered_and_cut():
    hits = split_segments().search("Japanese", 3)
    assert len(hits) == 3
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)


def test_deleted_sources_vanish_and_statistics_follow():
    idx = split_segments()
    removed = idx.remove_sources({"src1"})
    assert removed == sum(1 for i in range(len(TEXTS)) if i % 3 == 1)
    assert len(idx) == len(TEXTS) - removed
    # The same as an index that never held those rows.
    keep = [i for i in range(len(TEXTS)) if i % 3 != 1]
    ref = LexicalIndex(
        segments=[
            Segment.build(
                ids=[f"d{i}" for i in keep],
                sources=[f"src{i % 3}" for i in keep],
                doc_ids=[f"doc{i % 3}" for i in keep],
                years=[1950 + i for i in keep],
                tokens=[lexical_tokens(TEXTS[i]) for i in keep],
            )
        ]
    )
    for q in QUERIES:
        got, want = idx.search(q, 8), ref.search(q, 8)
        assert [i for i, _ in got] == [i for i, _ in want], q
        assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-5), q
    assert idx.doc_freq(lexical_tokens("Siberia")[0]) == ref.doc_freq(lexical_tokens("Siberia")[0])


def test_compaction_merges_without_changing_results(monkeypatch):
    import rag.lexical.index as index_mod

    monkeypatch.setattr(index_mod, "MAX_SEGMENTS", 2)
    idx = LexicalIndex(segments=[Segment.build(**rows(1, i)) for i in range(len(TEXTS))])
    idx.remove_sources({"src2"})
    before = {q: idx.search(q, 8) for q in QUERIES}
    assert idx.compact()
    assert len(idx.segments) <= 2
    assert all(a.all() for a in idx.alive.values()), "merged segments hold live rows only"
    for q in QUERIES:
        after = idx.search(q, 8)
        assert [i for i, _ in after] == [i for i, _ in before[q]], q
        assert [s for _, s in after] == pytest.approx([s for _, s in before[q]], rel=1e-5)


def test_filters_by_document_and_year():
    idx = split_segments()
    hits = idx.search("Japanese", 8, Filters(doc_ids=["doc0"]))
    assert hits and all(int(i[1:]) % 3 == 0 for i, _ in hits)
    hits = idx.search("Japanese", 8, Filters(year_min=1953, year_max=1955))
    assert hits and all(1953 <= 1950 + int(i[1:]) <= 1955 for i, _ in hits)


def test_folding_and_stemming_reach_the_index():
    idx = one_segment()
    assert idx.search("KŌAN maru", 2) == idx.search("koan Maru", 2)
    assert idx.term_known(lexical_tokens("trials")[0])
    assert not idx.term_known("zzzz")


def test_empty_index_and_empty_query():
    assert LexicalIndex().search("Koan Maru", 5) == []
    assert one_segment().search("", 5) == []
    assert one_segment().search("the and of", 5) == []


def test_stemming_is_safe_from_many_threads():
    """Under load the HTTP service answers in several threads at once; each must get its own stems."""
    from concurrent.futures import ThreadPoolExecutor

    from rag import text

    words = [
        f"{w}{s}"
        for w in ("repatriat", "intern", "suspend", "provision", "negotiat", "sentenc")
        for s in ("ed", "ing", "ions", "es")
    ]
    words = [f"{w}{i}" if i % 2 else w for i, w in enumerate(words * 200)]
    expected = [text._stemmer().stemWord(w) for w in words]

    def work(chunk: list[str]) -> list[str]:
        return [
            text._stemmer().stemWord(w) for w in chunk
        ]  # no cache: the stemmer itself runs every time

    parts = [words[i::8] for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(work, parts))
    for i, part in enumerate(got):
        assert part == expected[i::8]


def _random_index(seed: int = 5) -> tuple[LexicalIndex, list[str]]:
    """Zipf-distributed words over 3 segments with deletions: a few very common terms, a long rare tail."""
    rng = np.random.default_rng(seed)
    vocab = ["".join(rng.choice(list("bcdfghjklmnpqrstvwxz"), 6)) for _ in range(300)]
    p = 1.0 / (np.arange(len(vocab)) + 1.0)
    p /= p.sum()
    texts = [" ".join(rng.choice(vocab, rng.integers(3, 40), p=p)) for _ in range(3000)]
    segs = []
    for off, n in ((0, 2000), (2000, 700), (2700, 300)):
        idx = range(off, off + n)
        segs.append(
            Segment.build(
                ids=[f"r{i:04d}" for i in idx],
                sources=[f"s{i % 7}" for i in idx],
                doc_ids=[f"doc{i % 5}" for i in idx],
                years=[1940 + i % 30 for i in idx],
                tokens=[lexical_tokens(texts[i]) for i in idx],
            )
        )
    index = LexicalIndex(segments=segs)
    index.remove_sources({"s3"})
    queries = [" ".join(rng.choice(vocab, rng.integers(2, 7))) for _ in range(60)]
    queries += [f"{vocab[0]} {vocab[1]} {vocab[2]} {vocab[i]}" for i in range(150, 160)]
    return index, queries


@pytest.mark.parametrize(
    "seed,k,filters",
    [
        (5, 30, None),
        (5, 5, None),
        (5, 1, None),
        (5, 10, Filters(doc_ids=["doc1", "doc2"], year_min=1950)),
        (9, 30, None),
        (9, 3, Filters(year_max=1960)),
    ],
)
def test_pruned_search_equals_full_scoring(monkeypatch, seed, k, filters):
    """MaxScore pruning skips most postings of common terms, yet returns the exact top k."""
    import rag.lexical.index as index_mod

    index, queries = _random_index(seed)
    scored: list[int] = []
    accumulate = index_mod._accumulate

    def counting(parts, imp, n_rows):
        scored.append(sum(len(p[0]) for _, p in parts))
        return accumulate(parts, imp, n_rows)

    monkeypatch.setattr(index_mod, "_accumulate", counting)
    pruned = [index.search(q, k, filters) for q in queries]
    pruned_postings = sum(scored)
    scored.clear()
    monkeypatch.setattr(index_mod.LexicalIndex, "_seed_threshold", lambda *a: 0.0)  # score all
    full = [index.search(q, k, filters) for q in queries]
    full_postings = sum(scored)
    for q, got, want in zip(queries, pruned, full, strict=True):
        assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-9), q
        # Ids agree except where two rows tie to the last bit.
        assert {i for i, s in got if s > want[-1][1] + 1e-9} == {
            i for i, s in want if s > want[-1][1] + 1e-9
        }, q
        assert len(got) == len(want)
    assert pruned_postings < 0.7 * full_postings, (pruned_postings, full_postings)
