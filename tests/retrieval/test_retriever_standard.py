"""CadresRetriever against LangChain's standard retriever suite, over the shared corpus store."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import RetrieversIntegrationTests

from rag.retrieval.retriever import CadresRetriever

QUERY = "How many Japanese were interned in the Soviet Union?"


@pytest.fixture(scope="session", autouse=True)
def _corpus_for_standard_tests(corpus_settings):
    # The standard suite's properties cannot take fixtures: the settings are handed over here.
    TestCadresRetrieverStandard.settings = corpus_settings
    yield
    TestCadresRetrieverStandard.settings = None


class TestCadresRetrieverStandard(RetrieversIntegrationTests):
    settings = None

    @property
    def retriever_constructor(self) -> type[CadresRetriever]:
        return CadresRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        assert self.settings is not None, "corpus settings not set"
        return {"settings": self.settings, "k": 5}

    @property
    def retriever_query_example(self) -> str:
        return QUERY


# ---------------------------------------------------------------- beyond the standard suite
def test_documents_carry_passage_text_ids_and_metadata(corpus_settings, assistant):
    docs = CadresRetriever(settings=corpus_settings, k=4).invoke(QUERY)
    passages = assistant.retrieve(QUERY, k=4)
    assert len(docs) == 4 and all(isinstance(d, Document) for d in docs)
    for d, p in zip(docs, passages, strict=True):
        assert d.page_content == p.text
        assert d.id == p.chunk_id == d.metadata["chunk_id"]
        assert d.metadata["doc_id"] == p.doc_id
        assert d.metadata["score"] == p.score
        assert "page" in d.metadata
        for key in ("title", "authors", "year", "rrf", "dense_rank", "lexical_rank"):
            assert key in d.metadata, key


def test_filters_from_the_constructor_and_from_invoke(corpus_settings):
    doc = "repatriations-from-china-1953-1958"
    r = CadresRetriever(settings=corpus_settings, k=3, filters={"doc_ids": [doc]})
    assert {d.metadata["doc_id"] for d in r.invoke("Koan Maru")} == {doc}
    other = "soviet-japanese-joint-declaration-1956"
    got = r.invoke("Koan Maru", filters={"doc_id": other})
    assert got and {d.metadata["doc_id"] for d in got} == {other}
    assert CadresRetriever(settings=corpus_settings, filters={"year_min": 1800, "year_max": 1801}).invoke("Koan Maru") == []


async def _ainvoke(r, q, **kw):
    return await r.ainvoke(q, **kw)


def test_async_invoke_with_k(corpus_settings):
    import asyncio

    docs = asyncio.run(_ainvoke(CadresRetriever(settings=corpus_settings), QUERY, k=2))
    assert len(docs) == 2


def test_the_retriever_holds_a_searcher_not_a_registry(assistant):
    r = assistant.as_retriever(k=2)
    assert r.searcher is assistant.searcher
    docs = r.invoke(QUERY)
    assert [d.id for d in docs] == [p.chunk_id for p in assistant.retrieve(QUERY, k=2)]


def test_k_is_validated(corpus_settings):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        CadresRetriever(settings=corpus_settings, k=0)
    with pytest.raises(ValidationError):
        CadresRetriever(settings=corpus_settings, k=51)


def test_settings_default_to_the_environment(monkeypatch, corpus_settings):
    from rag.settings import get_settings

    monkeypatch.setenv("CADRES_DATA_DIR", str(corpus_settings.data_dir))
    monkeypatch.delenv("CADRES_CHROMA_URL", raising=False)
    get_settings.cache_clear()
    try:
        docs = CadresRetriever(k=2).invoke(QUERY)
    finally:
        get_settings.cache_clear()
    assert len(docs) == 2
