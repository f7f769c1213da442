"""Assistant: the one entry point every front end calls (UI, CLI, HTTP API, evaluation)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from rag.answering import extractive
from rag.answering.evidence import gather
from rag.answering.followup import combine_turns, follow_up_alone
from rag.answering.refusal import Signals, expected_type, has_type, should_refuse
from rag.answering.slots import slot_fit
from rag.answering.terms import coverage, focus_term, key_terms, soft_coverage, term_match
from rag.citing import author_date
from rag.events import AnswerEvent, RetrievalEvent, StreamEvent, TokenEvent
from rag.models import Answer, Passage
from rag.retrieval.filters import Filters
from rag.settings import Settings, get_settings
from rag.text import lexical_tokens

if TYPE_CHECKING:
    from rag.retrieval.searcher import Retrieval, Searcher


SOFT_CANDIDATES = 4  # sentences checked for paraphrased question words
SLOT_CANDIDATES = 8  # best-scored sentences searched for one that fills the question's answer slot


class QuestionError(ValueError):
    """A bad question; the message names the field and the reason."""


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
                    from rag.embedding import get_embedder
                    from rag.retrieval.searcher import Searcher
                    from rag.store import Store

                    embedder = get_embedder(self.settings.embedding_model, self.settings.torch_threads)
                    self._searcher = Searcher(self.settings, embedder, Store(self.settings, embedder.fingerprint))
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
        query = combine_turns(q, history)
        flt = Filters.coerce(filters)
        return self.searcher.search(query, k or self.settings.top_k, flt, also=follow_up_alone(q, history)).passages

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
    ) -> Iterator[StreamEvent]:
        t0 = time.perf_counter()
        q = self._check(question)
        history = [h for h in (history or []) if isinstance(h, str) and h.strip()]
        k = k or self.settings.top_k
        if not 1 <= k <= 50:
            raise QuestionError("k: must be between 1 and 50")
        flt = Filters.coerce(filters)
        if self.mode == "llm":
            yield from self.llm_answerer().stream(self, q, history, k, flt, t0)
            return
        query = combine_turns(q, history)
        retrieval = self.searcher.search(query, k, flt, also=follow_up_alone(q, history))
        yield RetrievalEvent(query=query, passages=retrieval.passages)
        t1 = time.perf_counter()
        answer = self._extractive(q, query, retrieval)
        for piece in _pieces(answer.answer):
            yield TokenEvent(text=piece)
        answer.timings_ms = {
            **retrieval.timings_ms,
            "answer": round((time.perf_counter() - t1) * 1000, 2),
            "total": round((time.perf_counter() - t0) * 1000, 2),
        }
        yield AnswerEvent(answer=answer)

    # ------------------------------------------------------------ extractive
    def evidence_signals(self, question: str, query: str, retrieval: Retrieval):
        """Sentences, their scores and the refusal signals; shared by both answerers."""
        lex = self.searcher.lexical()
        terms = key_terms(query, lex)
        sentences = gather(self.store, retrieval.passages)
        scored = extractive.score_sentences(sentences, retrieval.query_vec, terms)
        evidence_tokens: set[str] = set()
        for p in retrieval.passages:
            evidence_tokens.update(lexical_tokens(f"{p.metadata.get('title', '')} {p.text}"))
        kind = expected_type(question)
        total = sum(t.weight for t in terms) or 1.0
        typed = [s for s in scored[:SOFT_CANDIDATES] if has_type(s.sentence.text, kind, question)]
        words = self._word_vectors()
        focus = focus_term(terms)
        missing = [t for t in terms if t.token not in evidence_tokens]
        fit = slot_fit(question, terms, [s.sentence.text for s in scored[:SLOT_CANDIDATES]], words)
        signals = Signals(
            support=round(scored[0].score, 4) if scored else 0.0,
            top_sentence_sim=round(max((s.sim for s in scored), default=0.0), 4),
            top_passage_sim=round(max((p.score for p in retrieval.passages), default=0.0), 4),
            evidence_coverage=round(coverage(terms, evidence_tokens), 4),
            sentence_coverage=round(max((s.coverage for s in scored), default=0.0), 4),
            typed_coverage=round(max((s.coverage for s in scored if has_type(s.sentence.text, kind, question)), default=0.0), 4),
            soft_coverage=round(max((soft_coverage(terms, s.sentence.text, words) for s in typed), default=0.0), 4),
            focus_match=round(max((term_match(focus, s.sentence.text, words) for s in typed), default=0.0), 4)
            if focus
            else 1.0,
            missing_specific=float(sum(1 for t in missing if t.specific)),
            unknown_weight=round(sum(t.weight for t in terms if not t.known) / total, 4),
            slot_fit=fit.fit,
            slot=fit.slot.value if fit.slot else None,
            missing=[t.token for t in missing],
        )
        return scored, signals

    def _word_vectors(self):
        if self._words is None:
            from rag.answering.wordsim import WordVectors

            self._words = WordVectors(self.searcher.embedder)
        return self._words

    def _extractive(self, question: str, query: str, retrieval: Retrieval) -> Answer:
        scored, signals = self.evidence_signals(question, query, retrieval)
        refuse, reason = should_refuse(signals)
        if refuse or not scored:
            return self.refusal(question, query, retrieval.passages, reason or "no evidence", signals, "extractive")
        text, citations = extractive.compose(extractive.select(scored), retrieval.passages)
        return Answer(question=question, answer=text, citations=citations, mode="extractive", query=query)

    def refusal(self, question, query, passages, reason, signals: Signals | None, mode) -> Answer:
        closest = _closest(passages)
        text = "The corpus does not answer this question"
        text += f" ({reason})." if reason else "."
        if closest:
            text += " The closest sources are: " + "; ".join(closest) + "."
        return Answer(
            question=question, answer=text, refused=True, mode=mode, query=query, closest_sources=closest
        )

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
        if not chunk_ids:
            return {}
        got = self.store.chunks().get(ids=list(dict.fromkeys(chunk_ids)), include=["documents"])
        return dict(zip(got["ids"], got["documents"], strict=True))

    def _check(self, question) -> str:
        if not isinstance(question, str) or not question.strip():
            raise QuestionError("question: must not be empty")
        if len(question) > self.settings.max_question_chars:
            raise QuestionError(f"question: longer than {self.settings.max_question_chars} characters")
        return question.strip()


def _closest(passages: list[Passage], n: int = 3) -> list[str]:
    out: list[str] = []
    for p in passages:
        m = p.metadata
        authors = [a for a in str(m.get("authors", "")).split("; ") if a]
        label = f"{author_date(authors, m.get('year'), p.page, str(m.get('title', '')))} ({m.get('title', p.doc_id)})"
        if label not in out:
            out.append(label)
        if len(out) >= n:
            break
    return out


def _pieces(text: str) -> Iterator[str]:
    """Answer text in word-sized pieces, so front ends can show it progressively."""
    words = text.split(" ")
    for i, w in enumerate(words):
        yield w if i == len(words) - 1 else w + " "
