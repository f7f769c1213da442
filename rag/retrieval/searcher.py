"""The retrieval pipeline behind Assistant.retrieve and the LangChain retriever."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from rag import lexical, naming
from rag.embedding import Embedder, get_embedder
from rag.lexical import LexicalIndex
from rag.models import Passage
from rag.retrieval.filters import Filters
from rag.settings import Settings
from rag.store import ChunkRecord, Store, StoreBusy

log = logging.getLogger("rag.retrieval")
RRF_K = 60
CANDIDATES = 30
MMR_LAMBDA = 0.75
DUPLICATE_SIM = 0.95
GENERATION_CHECK_S = 2.0
PARALLEL_LEXICAL_ROWS = 50_000  # from here BM25 (~5 ms at 100k) outweighs the thread's cost
# Up to this many chunks, a Searcher keeps the rows it has read (text, metadata, vectors) for the
# store generation they came from: the dense search then asks Chroma for ids only and most asks
# read no row at all. ~40 kB a chunk with its sentence vectors, so at most ~80 MB.
RECORD_CACHE = 2_000
MAX_NAMED = 5  # documents one question may single out by their authors' names
NAMED_ROWS = 2_000  # a named document with more chunks than this is too large to rank in memory


@dataclass
class Retrieval:
    """Passages plus what the answerers need and the timings split."""

    passages: list[Passage]
    query_vec: np.ndarray
    passage_vecs: np.ndarray
    timings_ms: dict[str, float] = field(default_factory=dict)
    # chunk id -> its sentences' vectors (one row per span), read with the chunk; a chunk stored
    # without them (before pipeline version 6) is missing here and its sentences are encoded on demand
    sentence_vecs: dict[str, np.ndarray] = field(default_factory=dict)


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """One process-wide pool for the lexical stage, made on first use (nothing at import)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="cadres-lexical")
        return _POOL


class _Inline:
    """The pool's submit/result, run in the caller's thread."""

    def submit(self, fn, *args):
        self._result = fn(*args)
        return self

    def result(self):
        return self._result


def _timed(fn):
    t0 = time.perf_counter()
    return fn(), _ms(t0)


class Searcher:
    def __init__(self, settings: Settings, embedder: Embedder, store: Store):
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self._lex: LexicalIndex | None = None
        self._lex_lock = threading.Lock()
        self._checked_at = 0.0
        self._col = None
        self._pair: tuple | None = None
        self._held = _Held()
        self._authors: dict[str, set[str]] = {}
        self._doc_years: dict[str, int | None] = {}
        self._doc_chunks: dict[str, int] = {}
        self._authors_key: tuple = ()

    @classmethod
    def for_settings(cls, settings: Settings) -> Searcher:
        """A Searcher over the store of `settings`; the embedding model is shared per process."""
        embedder = get_embedder(settings.embedding_model, settings.torch_threads)
        return cls(settings, embedder, Store(settings, embedder.fingerprint))

    # ------------------------------------------------------------ lexical index
    def lexical(self) -> LexicalIndex:
        """The BM25 index, kept current with the store: reloaded or rebuilt when ingest changes it.

        A generation moved by another process also reopens the embedded store's client (see
        rag.store.reopen_client) before the index syncs, so the dense side sees the same rows.
        """
        return self._view()[0]

    def _view(self):
        """(lexical index, chunks collection), read together. While one thread reopens and syncs,
        the others go on with the pair they had rather than wait for it."""
        view = self._pair
        if view is not None and time.monotonic() - self._checked_at < GENERATION_CHECK_S:
            return view
        if not self._lex_lock.acquire(blocking=view is None):
            return view
        try:
            if self._pair is not None and time.monotonic() - self._checked_at < GENERATION_CHECK_S:
                return self._pair  # made by the thread this one waited for
            generation = self.store.generation()
            self.store.refresh(generation)
            col = self.store.chunks()  # re-fetched: a --rebuild replaces the collection
            lex = self._lex
            if lex is None or lex.generation != generation:
                lex = lexical.current(self.store, self.settings.lexical_dir, have=lex)
            self._lex, self._col, self._pair = lex, col, (lex, col)
            self._checked_at = time.monotonic()
            return self._pair
        finally:
            self._lex_lock.release()

    # ------------------------------------------------------------ rows read before
    def _held_at(self, col) -> _Held:
        """The rows read at the store's current generation. The generation is read afresh (~2 ms,
        once per search that holds rows), not taken from the view, which may be up to
        GENERATION_CHECK_S old: a document replaced under the same chunk ids must never be
        answered from its earlier text once its ingest has finished."""
        key = (self.store.generation(), getattr(col, "id", None))
        if key != self._held.key:
            self._held = _Held(key)
        return self._held

    def _cached_rows(self, cache, col, dense_ids, lex_lists):
        """Dense hits as (record, distance), reading only rows not held yet (the lexical-only hits
        among them) in one get; None when the store is busy."""
        want = {cid for hits in dense_ids for cid, _ in hits} | {cid for hits in lex_lists for cid, _ in hits}
        missing = [cid for cid in want if cid not in cache]
        if missing:
            try:
                got = self.store.get_chunks(missing, collection=col)
            except StoreBusy:
                return None
            if len(cache) + len(got) > 2 * RECORD_CACHE:  # rows written since the index was read
                cache.clear()
            for rec in got:
                cache[rec.chunk_id] = rec
        return [[(cache[cid], d) for cid, d in hits if cid in cache] for hits in dense_ids]

    # ------------------------------------------------------------ documents named by an author
    def _named_documents(self, query: str, lex: LexicalIndex, col, filters: Filters | None) -> list[str]:
        """Documents the query names by an author's capitalised surname ("Which archives did King
        and Muminov use?") or by their kind ("the article": see rag.naming). A paper says "we" and
        "this article", never its authors' names, so neither BM25 nor the embedding ties such a
        question to it; their passages then join the fusion as one more ranked list (a boost, not
        a filter). More than MAX_NAMED documents for the names given would not single any out, and
        one of more than NAMED_ROWS chunks is too large to rank in memory."""
        key = (lex.generation, getattr(col, "id", None))
        if key != self._authors_key:
            by_surname: dict[str, set[str]] = {}
            years: dict[str, int | None] = {}
            chunks: dict[str, int] = {}
            for d in self.store.documents():
                years[d.get("doc_id", "")] = d.get("year")
                chunks[d.get("doc_id", "")] = chunks.get(d.get("doc_id", ""), 0) + int(d.get("chunks") or 0)
                kind = naming.kind_of(d.get("source_type"))
                if kind:
                    by_surname.setdefault("the " + kind, set()).add(d.get("doc_id", ""))
                for a in d.get("authors") or []:
                    if name := naming.surname(a):
                        by_surname.setdefault(name, set()).add(d.get("doc_id", ""))
            self._authors, self._doc_years, self._doc_chunks, self._authors_key = by_surname, years, chunks, key
        names = naming.capitalised_words(query)
        if kind := naming.kind_asked(query):
            names.add("the " + kind)
        docs = sorted({d for w in names for d in self._authors.get(w, ())})
        if filters is not None and not filters.is_empty():
            docs = [d for d in docs if filters.accepts(d, self._doc_years.get(d))]
        if not 0 < len(docs) <= MAX_NAMED:
            return []
        return [d for d in docs if self._doc_chunks.get(d, 0) <= NAMED_ROWS]

    def _named_dense(self, held: _Held, docs: list[str], qvec: np.ndarray, n: int, col) -> list[tuple[ChunkRecord, float]]:
        """The named documents' n chunks nearest the query, as (record, cosine distance). Ranked
        here from their rows, read once per store generation: Chroma's filtered search costs ~60 ms
        at 100,000 chunks, this one get ~10 ms once and then nothing."""
        missing = [d for d in docs if d not in held.by_doc]
        if missing:
            try:
                got = self.store.get_chunks(where={"doc_id": {"$in": missing}}, collection=col)
            except StoreBusy:
                return []
            for d in missing:
                held.by_doc[d] = [r for r in got if r.metadata.get("doc_id") == d]
        rows = [r for d in docs for r in held.by_doc[d]]
        if not rows:
            return []
        sims = np.vstack([r.vector for r in rows]) @ qvec
        order = np.argsort(-sims, kind="stable")[:n]
        return [(rows[i], 1.0 - float(sims[i])) for i in order]

    # ------------------------------------------------------------ search
    def search(
        self, query: str, k: int, filters: Filters | None = None, also: tuple[str, ...] = ()
    ) -> Retrieval:
        """`also`: further phrasings (a follow-up on its own) whose ranked lists join the fusion."""
        t: dict[str, float] = {}
        queries = [query, *[q for q in also if q and q != query]]
        lex, col = self._view()
        t0 = time.perf_counter()
        n = min(max(CANDIDATES, k * 4), max(1, len(lex)))
        # BM25 needs only the text: on a large index it runs on another core while the query is
        # embedded and the dense index searched (tantivy, torch and Chroma release the GIL), so at
        # 1M chunks it costs the wall time only what outlasts those. On a small index it runs
        # inline: there the thread's GIL contention slows the embedding more than BM25 costs.
        lexical_job = (_pool() if len(lex) >= PARALLEL_LEXICAL_ROWS else _Inline()).submit(
            _timed, lambda: [lex.search(q, n, filters) for q in queries]
        )
        qvecs = self.embedder.encode_queries(queries, settings=self.settings)
        qvec = qvecs[0]
        t["embed_query"] = _ms(t0)

        t1 = time.perf_counter()
        where = filters.chroma_where() if filters else None
        named_docs = self._named_documents(query, lex, col, filters)
        small = len(lex) <= RECORD_CACHE
        held = self._held_at(col) if small or named_docs else None
        cache = held.rows if held is not None and small else None
        named = self._named_dense(held, named_docs, qvec, n, col) if held is not None and named_docs else []
        dense_ids = self.store.query_ids(qvecs, n, where, collection=col) if cache is not None else None
        if dense_ids is not None and named:
            dense_ids.append([(rec.chunk_id, d) for rec, d in named])
            for rec, _ in named:
                cache[rec.chunk_id] = rec
        if dense_ids is None:
            dense = self.store.query_chunks(qvecs, n, where, collection=col)
            if named:
                dense.append(named)
        t["dense"] = _ms(t1)

        t2 = time.perf_counter()
        lex_lists, t["lexical"] = lexical_job.result()
        t["lexical_wait"] = _ms(t2)

        t3 = time.perf_counter()
        if dense_ids is not None:
            dense = self._cached_rows(cache, col, dense_ids, lex_lists)
            if dense is None:  # mid-ingest, the rows could not be read: as without the cache
                cache = None
                dense = self.store.query_chunks(qvecs, n, where, collection=col)
                if named:
                    dense.append(named)
        rows: dict[str, dict] = {}
        for hits in dense:  # rows deleted by an ingest since this client loaded its index are left out
            for rank, (rec, _dist) in enumerate(hits):
                row = rows.get(rec.chunk_id)
                if row is None:
                    row = rows[rec.chunk_id] = _row(rec)
                row["rrf"] += 1.0 / (RRF_K + rank + 1)
                row.setdefault("dense_rank", rank)
        missing = list(dict.fromkeys(cid for hits in lex_lists for cid, _ in hits if cid not in rows))
        if cache is not None:  # read above: a row missing from the cache was deleted
            for cid in missing:
                if (rec := cache.get(cid)) is not None:
                    rows[cid] = _row(rec)
        elif missing:
            try:
                got = self.store.get_chunks(missing, collection=col)
            except StoreBusy as e:  # mid-ingest: answer from the dense hits, which could be read
                log.warning("lexical candidates skipped: %s", e)
                got = []
            for rec in got:
                rows[rec.chunk_id] = _row(rec)
        for hits in lex_lists:
            for rank, (cid, bm25) in enumerate(hits):
                if cid in rows:
                    rows[cid]["rrf"] += 1.0 / (RRF_K + rank + 1)
                    rows[cid].setdefault("lexical_rank", rank)
                    rows[cid].setdefault("bm25", bm25)
        ids = sorted(rows, key=lambda c: -rows[c]["rrf"])
        chosen = mmr(ids, rows, qvec, k)
        t["fuse"] = _ms(t3)

        passages, vecs = [], []
        for cid in chosen:
            r = rows[cid]
            rec = r["rec"]
            meta = dict(rec.metadata)
            sim = float(np.dot(qvec, rec.vector))
            meta.update(
                rrf=round(r["rrf"], 6),
                dense_rank=r.get("dense_rank"),
                lexical_rank=r.get("lexical_rank"),
                bm25=round(r.get("bm25", 0.0), 4),
            )
            passages.append(
                Passage(
                    chunk_id=cid,
                    doc_id=meta.get("doc_id", ""),
                    text=rec.text,
                    page=meta.get("page"),
                    score=round(sim, 4),
                    metadata=meta,
                )
            )
            vecs.append(rec.vector)
        pv = np.vstack(vecs) if vecs else np.zeros((0, len(qvec)), dtype=np.float32)
        svecs = {cid: sv for cid in chosen if (sv := rows[cid]["rec"].sentence_vectors) is not None}
        t["retrieve"] = _ms(t0)
        return Retrieval(passages, qvec, pv, t, svecs)


@dataclass
class _Held:
    """Rows read at one store generation: by chunk id (stores of up to RECORD_CACHE chunks) and
    by named document."""

    key: tuple = ()
    rows: dict[str, ChunkRecord] = field(default_factory=dict)
    by_doc: dict[str, list[ChunkRecord]] = field(default_factory=dict)


def _row(rec: ChunkRecord) -> dict:
    return {"rec": rec, "rrf": 0.0}


def mmr(ids: list[str], rows: dict[str, dict], qvec: np.ndarray, k: int) -> list[str]:
    """Maximal marginal relevance over fused ranks; near-duplicates (overlapping chunks) never both."""
    if not ids:
        return []
    top = max(rows[c]["rrf"] for c in ids) or 1.0
    chosen: list[str] = []
    pool = list(ids)
    while pool and len(chosen) < k:
        best, best_score = None, -1e9
        for c in pool:
            rel = rows[c]["rrf"] / top
            red = max((float(np.dot(rows[c]["rec"].vector, rows[s]["rec"].vector)) for s in chosen), default=0.0)
            if red >= DUPLICATE_SIM:
                continue
            score = MMR_LAMBDA * rel - (1 - MMR_LAMBDA) * red
            if score > best_score:
                best, best_score = c, score
        if best is None:
            break
        chosen.append(best)
        pool.remove(best)
    return chosen


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)
