"""Hybrid retrieval (dense + BM25, fused by RRF, diversified by MMR) on the shipped corpus."""

from __future__ import annotations

import time

import numpy as np
import pytest

from rag.retrieval import searcher as searcher_mod
from rag.retrieval.filters import Filters

QUERIES = [
    "How many Japanese were interned in the Soviet Union?",
    "Koan Maru",
    "Khabarovsk trial bacteriological weapons",
    "repatriation from China",
    "camp newspaper Nihon Shimbun",
]


# ---------------------------------------------------------------- folding
def test_lexical_matching_folds_diacritics(assistant):
    plain = assistant.retrieve("Koan Maru")
    macron = assistant.retrieve("K\u014dan Maru")
    assert [p.chunk_id for p in plain] == [p.chunk_id for p in macron]
    top = plain[0]
    assert "K\u014dan Maru" in top.text
    assert top.metadata["lexical_rank"] == 0, (
        "the plain spelling matches the macron spelling lexically"
    )


def test_unaccented_name_finds_the_accented_passage(assistant):
    found = assistant.retrieve("Sato Naotake")
    assert "Sat\u014d Naotake" in found[0].text
    assert found[0].doc_id == "end-of-war-and-stranded-japanese"
    assert found[0].metadata["lexical_rank"] == 0


def test_lexical_search_alone_folds_diacritics(assistant):
    lex = assistant.searcher.lexical()
    assert lex.search("Sato Naotake", 3) == lex.search("SAT\u014c naotake", 3)
    assert lex.search("Sato Naotake", 3)[0][0].startswith("end-of-war-and-stranded-japanese::")


# ---------------------------------------------------------------- filters
def test_doc_id_filter_returns_only_that_document(assistant):
    doc = "repatriations-from-china-1953-1958"
    for filters in ({"doc_ids": [doc]}, {"doc_id": doc}, Filters(doc_ids=[doc])):
        found = assistant.retrieve("Koan Maru", k=10, filters=filters)
        assert found, filters
        assert {p.doc_id for p in found} == {doc}


def test_doc_id_filter_with_several_documents(assistant):
    docs = ["khabarovsk-trial-1949", "king-muminov-2022"]
    found = assistant.retrieve("Japanese war criminals", k=10, filters={"doc_ids": docs})
    assert {p.doc_id for p in found} <= set(docs)
    assert len(found) > 1


def test_year_range_filter_returns_only_matching_documents(assistant):
    found = assistant.retrieve(
        "Japanese in the USSR and China", k=10, filters={"year_min": 2020, "year_max": 2022}
    )
    assert found
    assert {p.doc_id for p in found} == {"king-muminov-2022"}
    assert all(2020 <= p.metadata["year"] <= 2022 for p in found)
    later = assistant.retrieve("Japanese in the USSR and China", k=10, filters={"year_min": 2023})
    assert later and all(p.metadata["year"] >= 2023 for p in later)
    assert "king-muminov-2022" not in {p.doc_id for p in later}


@pytest.mark.parametrize(
    "filters",
    [
        {"year_min": 1800, "year_max": 1801},
        {"year_min": 2023, "year_max": 2021},
        {"doc_ids": ["no-such-document"]},
    ],
)
def test_impossible_filter_gives_no_passages_and_a_refusal_that_blames_the_filter(assistant, filters):
    assert assistant.retrieve("When did the Koan Maru reach Maizuru?", filters=filters) == []
    ans = assistant.ask("When did the Koan Maru reach Maizuru?", filters=filters)
    assert ans.refused
    assert ans.citations == []
    assert ans.answer.startswith("The corpus does not answer this question")
    # The corpus answers it outside the filter: the refusal says so and shows where.
    assert "filter leaves out the passages that answer it" in ans.answer
    assert ans.closest_sources and any("Maizuru" in s for s in ans.closest_sources)


# ---------------------------------------------------------------- MMR, k, scores, metadata
@pytest.mark.parametrize("query", QUERIES[:3])
def test_passages_are_distinct_and_not_near_duplicates(assistant, query):
    found = assistant.retrieve(query, k=10)
    ids = [p.chunk_id for p in found]
    assert len(ids) == len(set(ids)) == 10
    vecs = assistant.searcher.embedder.encode([p.text for p in found])
    sims = vecs @ vecs.T
    np.fill_diagonal(sims, 0.0)
    i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
    assert sims[i, j] < searcher_mod.DUPLICATE_SIM, (ids[i], ids[j], float(sims[i, j]))


@pytest.mark.parametrize("k", [1, 3, 5, 10, 50])
def test_k_is_respected(assistant, k):
    found = assistant.retrieve("Japanese internees in Siberia", k=k)
    assert len(found) == min(k, assistant.store.count())


def test_default_k_is_the_settings_top_k(assistant):
    assert len(assistant.retrieve("Japanese internees in Siberia")) == assistant.settings.top_k


@pytest.mark.parametrize("query", QUERIES)
def test_scores_and_fusion_metadata(assistant, query):
    found = assistant.retrieve(query, k=10)
    for p in found:
        assert -1.0 <= p.score <= 1.0
        assert {"rrf", "dense_rank", "lexical_rank", "bm25"} <= set(p.metadata)
        assert p.metadata["rrf"] > 0
        assert p.metadata["dense_rank"] is not None or p.metadata["lexical_rank"] is not None
        assert p.metadata["doc_id"] == p.doc_id and p.chunk_id.startswith(f"{p.doc_id}::")
        assert p.text
    # The first passage is the best fused one.
    assert found[0].metadata["rrf"] == max(p.metadata["rrf"] for p in found)


def test_retrieve_is_deterministic(assistant):
    q = QUERIES[0]
    assert [p.chunk_id for p in assistant.retrieve(q)] == [
        p.chunk_id for p in assistant.retrieve(q)
    ]


def test_lexical_stage_in_a_thread_gives_the_same_passages(assistant, monkeypatch):
    """A large index runs BM25 beside the embedding; the result must not depend on where it ran."""
    inline = [(p.chunk_id, p.metadata["rrf"]) for q in QUERIES for p in assistant.retrieve(q)]
    monkeypatch.setattr(searcher_mod, "PARALLEL_LEXICAL_ROWS", 0)
    threads = set()
    pool_submit = searcher_mod._pool().submit

    def spy(fn, *args):
        def run():
            import threading

            threads.add(threading.current_thread().name)
            return fn(*args)

        return pool_submit(run)

    monkeypatch.setattr(searcher_mod._pool(), "submit", spy)
    threaded = [(p.chunk_id, p.metadata["rrf"]) for q in QUERIES for p in assistant.retrieve(q)]
    assert threaded == inline
    assert threads and all(t.startswith("cadres-lexical") for t in threads)


def test_rows_held_from_an_earlier_search_give_the_same_passages(assistant, monkeypatch):
    """A small store's rows are read once per generation; later searches ask Chroma for ids only."""
    from rag.store import Store

    monkeypatch.setattr(searcher_mod, "RECORD_CACHE", 0)
    fresh = [(p.chunk_id, p.text, p.metadata["rrf"], p.score) for q in QUERIES for p in assistant.retrieve(q)]
    monkeypatch.undo()
    for q in QUERIES:
        assistant.retrieve(q)  # fills the rows
    reads = []
    for name in ("get_chunks", "query_chunks"):
        real = getattr(Store, name)
        monkeypatch.setattr(Store, name, lambda self, *a, _real=real, _n=name, **kw: reads.append(_n) or _real(self, *a, **kw))
    held = [(p.chunk_id, p.text, p.metadata["rrf"], p.score) for q in QUERIES for p in assistant.retrieve(q)]
    assert held == fresh
    assert reads == [], "every row was held from the searches before"


# ---------------------------------------------------------------- a document named by its authors
def test_a_question_naming_the_authors_reaches_their_document(assistant):
    """The article says "we" and "this article", never "King and Muminov"; the notes about it do."""
    found = assistant.retrieve("Into how many periods do King and Muminov divide the years from 1945 to 1956?")
    assert any("four discrete periods" in p.text for p in found[:5])
    assert any(p.doc_id == "king-muminov-2022" for p in found[:3])


def test_named_documents_are_ranked_from_rows_read_once(assistant, monkeypatch):
    """Chroma's filtered search is slow on a large store (~60 ms at 100,000 chunks): a named
    document's chunks are read once per generation and ranked here, in the order Chroma's exact
    search gives them."""
    from rag.store import Store

    searcher = assistant.searcher
    lex, col = searcher._view()
    q = "Which archives did King and Muminov use?"
    qvec = searcher.embedder.encode_queries([q], settings=searcher.settings)[0]
    ours = [(r.chunk_id, round(d, 5)) for r, d in searcher._named_dense(searcher._held_at(col), ["king-muminov-2022"], qvec, 5, col)]
    (chroma,) = searcher.store.query_ids(qvec[None, :], 5, {"doc_id": "king-muminov-2022"}, collection=col)
    assert [c for c, _ in ours] == [c for c, _ in chroma]
    assert [d for _, d in ours] == pytest.approx([d for _, d in chroma], abs=1e-4)
    reads = []
    real = Store.get_chunks
    monkeypatch.setattr(Store, "get_chunks", lambda self, *a, **kw: reads.append(1) or real(self, *a, **kw))
    searcher._named_dense(searcher._held_at(col), ["king-muminov-2022"], qvec, 5, col)
    assert reads == [], "read once per generation"


def test_a_capitalised_surname_or_a_kind_names_a_document(assistant):
    searcher = assistant.searcher
    lex, col = searcher._view()
    assert searcher._named_documents("Which archives did King and Muminov use?", lex, col, None) == ["king-muminov-2022"]
    assert searcher._named_documents("Which king granted the land?", lex, col, None) == []
    # "the article": the shipped corpus has one article; its 13 background notes are too many to name
    assert searcher._named_documents("What does the article say shaped their policies?", lex, col, None) == ["king-muminov-2022"]
    assert searcher._named_documents("What do the notes say about Maizuru?", lex, col, None) == []
    outside = Filters(doc_ids=["khabarovsk-trial-1949"])
    assert searcher._named_documents("What did King argue?", lex, col, outside) == [], "the user's filter holds"


# ---------------------------------------------------------------- the lexical index stays current
DOC_A = """---
doc_id: camp-bread
title: "Bread rations in the camps"
year: 1990
---
The Japanese internees in Siberia received a daily bread ration that was often cut in winter.
"""
DOC_B = """---
doc_id: zelkovan-letters
title: "Letters from the camps"
year: 1991
---
The quarrymen of the Zelkovan camp wrote letters home about the frozen quarries.
"""


def test_lexical_index_follows_a_later_ingest(make_settings, tmp_path):
    from ingest import ingest_paths
    from rag.assistant import Assistant

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "camp-bread.md").write_text(DOC_A, encoding="utf-8")
    settings = make_settings(corpus_dir=corpus)
    assert ingest_paths([corpus], settings, progress=False).files_added == 1

    qa = Assistant(settings)
    before = qa.retrieve("Zelkovan quarrymen")
    assert [p.doc_id for p in before] == ["camp-bread"]
    assert before[0].metadata["lexical_rank"] is None, "the word is unknown so far"

    (corpus / "zelkovan-letters.md").write_text(DOC_B, encoding="utf-8")
    assert ingest_paths([corpus], settings, progress=False).files_added == 1
    time.sleep(searcher_mod.GENERATION_CHECK_S + 0.5)

    after = qa.retrieve("Zelkovan quarrymen")
    assert after[0].doc_id == "zelkovan-letters"
    assert after[0].metadata["lexical_rank"] == 0, (
        "the same Assistant's BM25 index knows the new word"
    )
    assert after[0].metadata["bm25"] > 0
    assert len(qa.searcher.lexical()) == 2


def test_a_replaced_document_is_never_answered_from_rows_held_before(make_settings, tmp_path):
    from ingest import ingest_paths
    from rag.assistant import Assistant

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "camp-bread.md").write_text(DOC_A, encoding="utf-8")
    settings = make_settings(corpus_dir=corpus)
    ingest_paths([corpus], settings, progress=False)
    qa = Assistant(settings)
    assert "often cut in winter" in qa.retrieve("bread ration")[0].text

    (corpus / "camp-bread.md").write_text(DOC_A.replace("often cut in winter", "doubled each spring"), encoding="utf-8")
    assert ingest_paths([corpus], settings, progress=False).files_updated == 1
    (now,) = qa.retrieve("bread ration")  # at once: the rows held are checked against the generation
    assert "doubled each spring" in now.text and "often cut" not in now.text


def test_the_store_returns_typed_records(corpus_settings):
    """rag.store is the only module that unpacks Chroma results: typed chunks and sentences."""
    from rag.chunk_schema import sentence_spans_of
    from rag.embedding import get_embedder
    from rag.store import ChunkRecord, Store

    emb = get_embedder(corpus_settings.embedding_model)
    store = Store(corpus_settings, emb.fingerprint)
    (hits,) = store.query_chunks(emb.encode_queries(["Koan Maru"], settings=corpus_settings), 3)
    assert len(hits) == 3 and all(isinstance(r, ChunkRecord) and r.vector.shape == (emb.dim,) for r, _ in hits)
    assert [d for _, d in hits] == sorted(d for _, d in hits)
    ids = [r.chunk_id for r, _ in hits]
    assert store.chunk_texts(ids) == {r.chunk_id: r.text for r, _ in hits}
    first = hits[0][0]  # its sentences' vectors come with it, one per stored span, unit length
    assert "sentence_vectors" not in first.metadata
    assert first.sentence_vectors.shape == (len(sentence_spans_of(first.metadata)), emb.dim)
    assert np.allclose(np.linalg.norm(first.sentence_vectors, axis=1), 1.0, atol=1e-4)
    assert store.get_chunks(["no-such-id"]) == []
