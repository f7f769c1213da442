"""A LangChain retriever over the cadres-qa store: the same hybrid search as Assistant.retrieve.

    from rag.retrieval.retriever import CadresRetriever

    docs = CadresRetriever(k=3).invoke("How many Japanese were interned in the Soviet Union?")
    docs = CadresRetriever().invoke("Koan Maru", k=1, filters={"doc_ids": ["repatriation-from-the-ussr"]})
    docs = Assistant(settings).as_retriever(k=3).invoke(...)  # on that Assistant's own Searcher

Each Document carries the passage text, its chunk id as `id`, and the chunk's metadata plus
chunk_id, doc_id, page and score (the passage's cosine similarity to the query).
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables.config import run_in_executor
from pydantic import ConfigDict, Field

from rag.settings import Settings, get_settings


class CadresRetriever(BaseRetriever):
    """Hybrid (dense + BM25, fused and diversified) retrieval over the cadres-qa corpus."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    k: int = Field(5, ge=1, le=50, description="Passages returned per query.")
    filters: dict | None = Field(None, description="{doc_ids | doc_id, year_min, year_max}")
    settings: Settings | None = Field(None, description="Store to search; None = the CADRES_* environment.")
    searcher: Any = Field(None, description="The Searcher to use (Assistant.as_retriever passes its own); made from settings when None.")

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        from rag.checks import check_k, check_question
        from rag.retrieval.filters import Filters
        from rag.retrieval.searcher import Searcher

        settings = self.settings or get_settings()
        query = check_question(query, settings.max_question_chars)
        k = check_k(int(kwargs.get("k") or self.k))
        filters = Filters.coerce(kwargs.get("filters", self.filters))
        if self.searcher is None:
            self.searcher = Searcher.for_settings(settings)
        passages = self.searcher.search(query, k, filters).passages
        return [
            Document(
                page_content=p.text,
                metadata={**p.metadata, "chunk_id": p.chunk_id, "doc_id": p.doc_id, "page": p.page, "score": p.score},
                id=p.chunk_id,
            )
            for p in passages
        ]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        return await run_in_executor(
            None, self._get_relevant_documents, query, run_manager=run_manager.get_sync(), **kwargs
        )
