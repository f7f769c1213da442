"""Assistant: the one entry point every front end calls (UI, CLI, HTTP API, evaluation)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from rag.answering.followup import combine_turns, follow_up_alone
from rag.checks import (
    QuestionError as QuestionError,  # re-exported: callers of the Assistant catch it
)
from rag.checks import check_k, check_question
from rag.events import AnswerEvent, RetrievalEvent, StreamEvent, TokenEvent
from rag.models import Answer, Passage
from rag.retrieval.filters import Filters
from rag.settings import Settings, get_settings

if TYPE_CHECKING:
    from rag.answering.evidence import Evidence
    from rag.retrieval.searcher import Retrieval, Searcher


class Assistant:
    def __init__(self, settings: Settings | None = None, *, llm=None):
        self.settings = settings or get_settings()
        self._llm_override = llm
        self._lock = threading.Lock()
        self._searcher: Searcher | None = None
        self._llm_answerer = None
        self._words = None

    # ------------------------------------------------------------ wiring (lazy)
    @property
    def searcher(self) -> Searcher:
        if self._searcher is None:
            with self._lock:
                if self._searcher is None:
                    from rag.retrieval.searcher import Searcher

                    self._searcher = Searcher.for_settings(self.settings)
        return self._searcher

    @property
    def store(self):
        return self.searcher.store

    @property
    def mode(self) -> str:
        return "extractive" if self._llm_spec() == "extractive" else "llm"

    def _llm_spec(self) -> str:
        if self._llm_override is not None:
            return "custom"
        return (self.settings.llm or "extractive").strip()

    def llm_answerer(self):
        if self._llm_answerer is None:
            from rag.answering.llm import LLMAnswerer, chat_model_from_spec

            model = self._llm_override if self._llm_override is not None else chat_model_from_spec(self.settings)
            self._llm_answerer = LLMAnswerer(model, self.settings)
        return self._llm_answerer

    # ------------------------------------------------------------ API
    def retrieve(
        self,
        question: str,
        k: int | None = None,
        filters: Filters | dict | None = None,
        history: list[str] | None = None,
    ) -> list[Passage]:
        q = self._check(question)
        k = check_k(k) or self.settings.top_k
        query = combine_turns(q, history)
        flt = Filters.coerce(filters)
        return self.searcher.search(query, k, flt, also=follow_up_alone(q, history)).passages

    def ask(
        self,
        question: str,
        history: list[str] | None = None,
        k: int | None = None,
        filters: Filters | dict | None = None,
    ) -> Answer:
        final = None
        for event in self.stream(question, history=history, k=k, filters=filters):
            if isinstance(event, AnswerEvent):
                final = event.answer
        assert final is not None
        return final

    def stream(
        self,
        question: str,
        history: list[str] | None = None,
        k: int | None = None,
        filters: Filters | dict | None = None,
        config: dict | None = None,
    ) -> Iterator[StreamEvent]:
        """The one answer path (ask, the HTTP API and rag.chain all come here). `config`: a LangChain
        RunnableConfig; with it the retrieval, the prompt and the LLM call run as child runs, so the
        caller's callbacks and tracers see them."""
        t0 = time.perf_counter()
        q = self._check(question)
        history = [h for h in (history or []) if isinstance(h, str) and h.strip()]
        k = check_k(k) or self.settings.top_k
        flt = Filters.coerce(filters)
        if self.mode == "llm":
            llm = self.llm_answerer()
            query = llm.rewrite(q, history, config=config)
            retrieval = self._search(query, k, flt, (), config)
            yield RetrievalEvent(query=query, passages=retrieval.passages)
            t1 = time.perf_counter()
            yield from llm.stream(self.evidence(q, query, retrieval), retrieval, t0, t1, config=config)
            return
        query = combine_turns(q, history)
        also = follow_up_alone(q, history)
        retrieval = self._search(query, k, flt, also, config)
        yield RetrievalEvent(query=query, passages=retrieval.passages)
        t1 = time.perf_counter()
        answer = self._extractive(q, query, retrieval, k, flt, also)
        # The extractive answer exists whole once composed: it is sent as one piece, never cut into
        # fake word pieces (a front end would then reconcile what it showed with the final text).
        yield TokenEvent(text=answer.answer)
        answer.timings_ms = {
            **retrieval.timings_ms,
            "answer": round((time.perf_counter() - t1) * 1000, 2),
            "total": round((time.perf_counter() - t0) * 1000, 2),
        }
        yield AnswerEvent(answer=answer)

    def _search(self, query: str, k: int, flt, also, config) -> Retrieval:
        if config is None:
            return self.searcher.search(query, k, flt, also=also)
        from langchain_core.runnables import RunnableLambda

        step = RunnableLambda(lambda qy: self.searcher.search(qy, k, flt, also=also), name="cadres_retrieve")
        return step.invoke(query, config=config)

    # ------------------------------------------------------------ hand-over to the answering layer
    def evidence(self, question: str, query: str, retrieval: Retrieval, model=None) -> Evidence:
        """Scored sentences, signals and verdict for a retrieval; shared by both answerers."""
        from rag.answering.answer import gather

        encode = self.searcher.embedder.encode
        return gather(question, query, retrieval, encode, self.searcher.lexical(), self._word_vectors(), model)

    def outside_filter(self, question: str, query: str, k: int, flt: Filters | None, also=()) -> Evidence | None:
        """When a filter is set, the evidence without it: does the corpus answer outside the filter?"""
        if flt is None or flt.is_empty():
            return None
        return self.evidence(question, query, self.searcher.search(query, k, None, also=also))

    def _word_vectors(self):
        if self._words is None:
            from rag.answering.wordsim import WordVectors

            self._words = WordVectors(self.searcher.embedder)
        return self._words

    def _extractive(self, question: str, query: str, retrieval: Retrieval, k: int, flt, also) -> Answer:
        from rag.answering.answer import extractive_answer, record_answer, refusal_answer

        ev = self.evidence(question, query, retrieval)
        on_record = record_answer(ev, lambda: self._records(flt), lambda doc_id: self._best_passage(question, doc_id))
        if on_record is not None:
            return on_record
        if ev.verdict and ev.verdict.answerable:
            return extractive_answer(ev)
        return refusal_answer(ev, "extractive", outside=self.outside_filter(question, query, k, flt, also))

    def _records(self, flt: Filters | None) -> list:
        """Every document's record that the user's document or year filter lets through."""
        from rag.models import DocumentMeta

        out = []
        for d in self.store.documents():
            try:
                meta = DocumentMeta.model_validate(d)
            except ValueError:
                continue  # a record another writer left incomplete cannot name a document
            if flt is None or flt.accepts(meta.doc_id, meta.year):
                out.append(meta)
        return out

    def _best_passage(self, question: str, doc_id: str):
        found = self.searcher.search(question, 1, Filters(doc_ids=[doc_id])).passages  # inside any user filter: the record passed it
        return found[0] if found else None

    def as_retriever(self, **kwargs):
        """A LangChain retriever on this Assistant's own Searcher (its store and lexical index)."""
        from rag.retrieval.retriever import CadresRetriever

        return CadresRetriever(settings=self.settings, searcher=self.searcher, **kwargs)

    def warm_up(self) -> None:
        """Load the embedding model and the lexical index before the first question."""
        self.searcher.embedder.encode_queries(["warm-up"], settings=self.settings)
        self.searcher.lexical()

    # ------------------------------------------------------------ corpus status
    def status(self) -> dict:
        store = self.store
        docs = store.documents() if store.exists() else []
        return {
            "documents": len(docs),
            "chunks": store.count(),
            "last_ingest": store.updated_at(),
            "embedding_model": self.settings.embedding_model,
            "embedding_fingerprint": self.searcher.embedder.fingerprint,
            "answer_mode": self.mode,
            "llm": self.settings.llm,
            "chroma": self.settings.chroma_url or str(self.settings.chroma_path),
        }

    def documents(self) -> list[dict]:
        return self.store.documents()

    def chunk_texts(self, chunk_ids: list[str]) -> dict[str, str]:
        """Stored chunk texts, for checking that a citation's quote stands in its chunk."""
        return self.store.chunk_texts(chunk_ids)

    def _check(self, question) -> str:
        return check_question(question, self.settings.max_question_chars)


