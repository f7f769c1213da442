"""Chroma access: embedded PersistentClient or a Chroma server, with the store's own bookkeeping.

Two collections share one name prefix: chunks (what is retrieved; each carries its sentences'
vectors, embedded at ingest so a query never has to encode them) and files (the manifest that makes
ingest incremental). All shared state lives in Chroma, so replicas on a Chroma server agree.

This is the only module that speaks Chroma: reads come back as ChunkRecord and FileEntry, and
writes go in as the same records (write_chunks, put_file).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from rag.chunk_schema import SENTENCE_VECTORS, decode_sentence_vectors, put_sentence_vectors
from rag.settings import Settings

SCHEMA_VERSION = "1"
log = logging.getLogger("rag.store")


class StoreError(RuntimeError):
    """A store problem the user must act on; the message says what to do."""


class StoreMismatch(StoreError):
    pass


def make_client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        u = urlparse(settings.chroma_url)
        port = u.port or (443 if u.scheme == "https" else 8000)
        try:
            client = chromadb.HttpClient(
                host=u.hostname, port=port, ssl=u.scheme == "https", settings=chroma_settings
            )
            client.heartbeat()
        except Exception as e:
            raise StoreError(f"Chroma server at {settings.chroma_url} is not reachable ({type(e).__name__}: {e})") from e
        return client
    try:
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        probe = settings.chroma_path / f".write-test-{uuid.uuid4().hex}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        raise StoreError(f"data dir {settings.data_dir} is not writable ({e.strerror}); set CADRES_DATA_DIR") from e
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


# One client per store location per process; `_opened`: when it was last reopened. `_seen`: per
# collection, the generation the location's client was last made current for and, until it has
# settled, when it moved. `_own`: the generations this process wrote.
_clients: dict[tuple, Any] = {}
_opened: dict[tuple, float] = {}
_seen: dict[tuple, tuple[str, float | None]] = {}
_own: deque[str] = deque(maxlen=64)
_clients_lock = threading.Lock()
REOPEN_MIN_S = 1.0  # error-driven reopens of one location at most this often (each reloads the HNSW)
RETRY_AFTER_S = 2
SETTLE_S = 5.0  # a moved generation standing this long gets one more reopen (see Store.refresh)


class StoreBusy(StoreError):
    """Another process is rewriting the embedded store and a read failed even on a fresh client."""

    retry_after = RETRY_AFTER_S


def _key(settings: Settings) -> tuple:
    return (settings.chroma_url, str(settings.chroma_path.resolve()))


def get_client(settings: Settings):
    """One client per store location per process (Chroma's embedded client is not meant to be opened twice)."""
    key = _key(settings)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = make_client(settings)
        return client


def forget_client(settings: Settings) -> None:
    key = _key(settings)
    with _clients_lock:
        _clients.pop(key, None)
        _opened.pop(key, None)
        for k in [k for k in _seen if k[0] == key]:
            del _seen[k]


def reopen_client(settings: Settings, stale: Any = None, *, throttle: bool = False):
    """A fresh embedded client in place of `stale`, so reads see what another process wrote.

    Chroma's embedded client loads each HNSW index once and never notices another process's
    writes (queries then miss new rows, and fetching their vectors fails with "Error finding id").
    Chroma caches one System per path, so the entry is dropped (not stopped: requests in flight
    finish on the old client, which the garbage collector frees once they let go of it) before a
    new client is made. A Chroma server needs none of this. `stale` guards against reopening twice
    when several threads hit the same stale client; `throttle` skips a reopen of a client that was
    itself reopened under REOPEN_MIN_S ago.
    """
    key = _key(settings)
    with _clients_lock:
        current = _clients.get(key)
        if settings.chroma_url or (current is not None and stale is not None and current is not stale):
            return current if current is not None else _open_locked(key, settings)
        if current is not None and throttle and time.monotonic() - _opened.get(key, 0.0) < REOPEN_MIN_S:
            return current
        if current is not None:
            from chromadb.api.shared_system_client import SharedSystemClient

            ident = getattr(current, "_identifier", str(settings.chroma_path))
            SharedSystemClient._identifier_to_system.pop(ident, None)
        client = _open_locked(key, settings)
    log.info("reopened the embedded store at %s: another process changed it", settings.chroma_path)
    _collect_retired()
    return client


def _open_locked(key: tuple, settings: Settings):
    client = _clients[key] = make_client(settings)
    _opened[key] = time.monotonic()
    return client


def _collect_retired() -> None:
    """Free retired clients soon, and again once requests in flight are done with them: a Chroma
    System holds reference cycles, so until a collection each reopen keeps its HNSW in memory."""
    for delay in (1.0, 30.0):
        t = threading.Timer(delay, gc.collect)
        t.daemon = True
        t.start()


def _retryable(e: Exception) -> bool:
    from chromadb.errors import InternalError, NotFoundError

    return isinstance(e, InternalError | NotFoundError)


class ResilientCollection:
    """A Chroma collection whose reads survive another process's writes to the embedded store.

    Reads go to the location's current client (re-fetching the collection after a reopen). A read
    that fails with Chroma's internal or not-found error (a stale index, a rebuilt collection)
    reopens the client and is tried once more. Should that fail too (an ingest is still writing),
    a `get` asking for vectors returns the rows whose vectors can be read, and any other read is a
    StoreBusy (503 with Retry-After). Writes and attributes are the current collection's, unretried.
    """

    _READS = frozenset({"get", "query", "count", "peek"})

    def __init__(self, store: Store, name: str, collection: Any, client: Any):
        self._store, self._name, self._col, self._client = store, name, collection, client

    def __getattr__(self, attr: str):
        if attr.startswith("__") or attr in ("_store", "_name", "_col", "_client"):
            raise AttributeError(attr)  # not set yet (copy, pickle): never recurse
        if attr in ResilientCollection._READS:
            return functools.partial(self._read, attr)
        return getattr(self._current(), attr)

    def __repr__(self) -> str:
        return f"ResilientCollection({self._name!r})"

    def _current(self):
        client = self._store.client
        if client is not self._client:
            self._col, self._client = client.get_collection(self._name, embedding_function=None), client
        return self._col

    def _read(self, method: str, *args, **kw):
        try:
            return getattr(self._current(), method)(*args, **kw)
        except Exception as e:
            if not _retryable(e):
                raise
        reopen_client(self._store.settings, stale=self._client, throttle=True)
        try:
            col = self._current()
            return getattr(col, method)(*args, **kw)
        except Exception as e:
            if not _retryable(e):
                raise
            if method == "get" and not args and "embeddings" in (kw.get("include") or ()):
                with contextlib.suppress(Exception):
                    return _readable_rows(col, kw)
            log.warning("store read failed after a reopen (%s: %s)", type(e).__name__, e)
            raise StoreBusy(
                f"the store in {self._store._where()} is being changed by another process (an ingest); "
                f"retry in a few seconds"
            ) from None


def _readable_rows(col, kw: dict) -> dict:
    """What `col.get(**kw)` would return, less the rows whose vectors this client cannot read yet
    (written by another process after it loaded its index): found by halving the id list."""
    include = list(kw["include"])
    ids = col.get(**{**kw, "include": []})["ids"]  # from SQLite, which is always current
    good: list[str] = []

    def keep(part: list[str]) -> None:
        try:
            col.get(ids=part, include=["embeddings"])
            good.extend(part)
        except Exception as e:
            if not _retryable(e):
                raise
            if len(part) > 1:
                keep(part[: len(part) // 2])
                keep(part[len(part) // 2 :])

    if ids:
        keep(ids)
    log.info("read %d of %d rows: the others are being written by another process", len(good), len(ids))
    if not good:
        return {"ids": [], **{k: [] for k in include}, "included": include}
    return col.get(ids=good, include=include)


@dataclass(frozen=True)
class ChunkRecord:
    """One stored chunk: its text, its metadata (layout: rag.chunk_schema), and when asked for its
    vector; `sentence_vectors` holds one row per sentence span (None for a chunk stored without)."""

    chunk_id: str
    text: str
    metadata: dict[str, Any]
    vector: np.ndarray | None = None
    vectors_of_sentences: np.ndarray | str | None = None  # as given, or as stored (base64)

    @functools.cached_property
    def sentence_vectors(self) -> np.ndarray | None:
        """Decoded on first use: a search reads some 30 chunks and quotes from five."""
        v = self.vectors_of_sentences
        return decode_sentence_vectors(v, self.metadata) if isinstance(v, str) else v


@dataclass(frozen=True)
class FileEntry:
    """One file in the manifest (the files collection): the document it holds, the hash of what
    was read, and whether its write finished ("writing" is recorded first, so a killed run is seen)."""

    doc_id: str
    content_hash: str = ""
    n_chunks: int = 0
    n_sentences: int | None = None  # how many sentences its chunks hold (None: not counted)
    state: Literal["writing", "done"] = "done"
    ingested_at: float | None = None
    meta: str = "{}"  # the DocumentMeta, as JSON

    def row(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @classmethod
    def from_row(cls, m: dict[str, Any] | None) -> FileEntry:
        m = m or {}
        n_sent = m.get("n_sentences")
        return cls(
            doc_id=str(m.get("doc_id", "")),
            content_hash=str(m.get("content_hash", "")),
            n_chunks=int(m.get("n_chunks", 0)),
            n_sentences=None if n_sent is None else int(n_sent),
            state="writing" if m.get("state") == "writing" else "done",
            ingested_at=m.get("ingested_at"),
            meta=str(m.get("meta", "{}")),
        )


def _chunk_rows(ids: list, docs: list | None, metas: list | None, embs: list | None) -> list[ChunkRecord]:
    """Records from the columns of a Chroma result (`embs` None: no vectors asked for); rows another
    process deleted since this client loaded its index come back empty and are left out."""
    out = []
    for j, cid in enumerate(ids):
        text = docs[j] if docs else ""
        meta = metas[j] if metas else {}
        vec = embs[j] if embs is not None else None
        if text is None or meta is None or (embs is not None and vec is None):
            continue
        meta = dict(meta)
        raw = meta.pop(SENTENCE_VECTORS, None)
        out.append(ChunkRecord(cid, text, meta, None if vec is None else np.asarray(vec, dtype=np.float32), raw))
    return out


class Store:
    def __init__(self, settings: Settings, model_fingerprint: str):
        self.settings = settings
        self.model = model_fingerprint
        self._key = _key(settings)
        get_client(settings)  # fails here, with what to do, on an unwritable data dir
        self.name = settings.collection

    @property
    def client(self):
        """The location's current client: it changes when another process's ingest is noticed."""
        client = _clients.get(self._key)
        return client if client is not None else get_client(self.settings)

    def refresh(self, generation: str) -> bool:
        """Reopen the embedded client when another process moved the store's generation; True if reopened.

        Not for this process's own writes (an in-process ingest shares the client, which is then
        current), nor on a Chroma server. A generation that has stood still for SETTLE_S after
        moving gets one more reopen: an ingest stamps its end before it finishes (it still syncs the
        lexical index and its Chroma flushes on exit), so the first reopen may come too early.
        """
        if self.settings.chroma_url:
            return False
        key = (self._key, self.name)
        now = time.monotonic()
        with _clients_lock:
            seen, moved = _seen.get(key, (None, None))
            if seen is None or generation in _own:
                _seen[key] = (generation, None)
                return False
            if seen == generation:
                if moved is None or now - moved < SETTLE_S:
                    return False
                _seen[key] = (generation, None)
            else:
                _seen[key] = (generation, now)
        reopen_client(self.settings)
        return True

    def _wrap(self, col, client) -> ResilientCollection:
        return ResilientCollection(self, col.name, col, client)

    # ------------------------------------------------------------ collections
    def _expected_meta(self) -> dict:
        return {
            "schema": SCHEMA_VERSION,
            "embedding_model": self.model,
            "chunk_tokens": self.settings.chunk_tokens,
            "chunk_overlap_tokens": self.settings.chunk_overlap_tokens,
        }

    def _collection_names(self) -> set[str]:
        return {c if isinstance(c, str) else c.name for c in self.client.list_collections()}

    def exists(self) -> bool:
        return self.name in self._collection_names()

    def chunks(self, create: bool = False, for_write: bool = False):
        if not create and not self.exists():
            raise StoreError(
                f"no index named {self.name!r} in {self._where()}; run `cadres ingest` first"
            )
        expected = self._expected_meta()
        client = self.client
        col = client.get_or_create_collection(
            self.name,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={**expected, "generation": "0", "updated": time.time()},
            embedding_function=None,
        )
        meta = col.metadata or {}
        if meta.get("embedding_model") != self.model:
            raise StoreMismatch(
                f"the index in {self._where()} was built with embedding model {meta.get('embedding_model')!r}, "
                f"but the settings use {self.model!r}; vectors of two models cannot be mixed. "
                "Re-ingest with `cadres ingest --rebuild` (or use another CADRES_DATA_DIR / CADRES_COLLECTION)."
            )
        if for_write and (
            str(meta.get("chunk_tokens")) != str(self.settings.chunk_tokens)
            or str(meta.get("chunk_overlap_tokens")) != str(self.settings.chunk_overlap_tokens)
        ):
            raise StoreMismatch(
                f"the index in {self._where()} was chunked with {meta.get('chunk_tokens')}/"
                f"{meta.get('chunk_overlap_tokens')} tokens (size/overlap), the settings say "
                f"{self.settings.chunk_tokens}/{self.settings.chunk_overlap_tokens}. "
                "Re-ingest everything with `cadres ingest --rebuild`."
            )
        return self._wrap(col, client)

    # ------------------------------------------------------------ typed reads
    def query_chunks(
        self, vectors: np.ndarray, n: int, where: dict | None = None, collection=None
    ) -> list[list[tuple[ChunkRecord, float]]]:
        """Per query vector, the n nearest chunks with their cosine distance, nearest first."""
        col = collection if collection is not None else self.chunks()
        got = col.query(
            query_embeddings=np.asarray(vectors, dtype=np.float32).tolist(), n_results=n, where=where,
            include=["documents", "metadatas", "embeddings", "distances"],
        )
        out = []
        for qi, ids in enumerate(got["ids"]):
            dist = dict(zip(ids, got["distances"][qi], strict=True))
            rows = _chunk_rows(ids, got["documents"][qi], got["metadatas"][qi], got["embeddings"][qi])
            out.append([(r, float(dist[r.chunk_id])) for r in rows])
        return out

    def query_ids(self, vectors: np.ndarray, n: int, where: dict | None = None, collection=None) -> list[list[tuple[str, float]]]:
        """Per query vector, the n nearest chunk ids with their cosine distance, nearest first: the
        dense search without reading rows (about a third of query_chunks' time on a small store),
        for a caller that holds the rows already."""
        col = collection if collection is not None else self.chunks()
        got = col.query(
            query_embeddings=np.asarray(vectors, dtype=np.float32).tolist(), n_results=n, where=where,
            include=["distances"],
        )
        return [
            [(cid, float(d)) for cid, d in zip(ids, got["distances"][qi], strict=True)]
            for qi, ids in enumerate(got["ids"])
        ]

    def get_chunks(
        self, ids: list[str] | None = None, *, where: dict | None = None, vectors: bool = True,
        limit: int | None = None, offset: int | None = None, collection=None,
    ) -> list[ChunkRecord]:
        """Chunks by id or by a metadata filter (paged with limit/offset), in the store's order."""
        col = collection if collection is not None else self.chunks()
        include = ["documents", "metadatas"] + (["embeddings"] if vectors else [])
        got = col.get(ids=ids, where=where, include=include, limit=limit, offset=offset)
        return _chunk_rows(got["ids"], got.get("documents"), got.get("metadatas"), got.get("embeddings") if vectors else None)

    def chunk_texts(self, ids: list[str]) -> dict[str, str]:
        return {r.chunk_id: r.text for r in self.get_chunks(list(dict.fromkeys(ids)), vectors=False)} if ids else {}

    # ------------------------------------------------------------ typed writes
    @functools.cached_property
    def max_batch(self) -> int:
        return max(1, min(1000, self.client.get_max_batch_size()))

    def write_chunks(self, records: Sequence[ChunkRecord]) -> None:
        """Upsert chunks with their vectors and their sentences' vectors (metadata as made by
        rag.chunk_schema)."""
        col = self.chunks()
        for b in batched(list(records), self.max_batch):
            col.upsert(
                ids=[r.chunk_id for r in b],
                embeddings=np.vstack([r.vector for r in b]),
                documents=[r.text for r in b],
                metadatas=[put_sentence_vectors(r.metadata, r.sentence_vectors) for r in b],
            )

    def delete_source(self, source: str) -> int:
        """A source's chunks (not its manifest entry); returns how many were removed."""
        old = list(self.chunks().get(where={"source": source}, include=[])["ids"])
        self.delete_chunk_ids(old)
        return len(old)

    def put_file(self, source: str, entry: FileEntry) -> None:
        self.files().upsert(ids=[source], embeddings=[[0.0]], metadatas=[entry.row()])

    def delete_file(self, source: str) -> None:
        self.files().delete(ids=[source])

    def drop_legacy_sentences(self) -> bool:
        """Stores written before pipeline version 6 kept sentences in a collection of their own;
        their vectors now travel with each chunk, so the collection goes (True if there was one)."""
        name = f"{self.name}-sentences"
        if name not in self._collection_names():
            return False
        self.client.delete_collection(name)
        return True

    def orphans(self, known: set[str]) -> dict[str, list[str]]:
        """Chunk ids by source, for chunks whose source is not in `known` (read page by page)."""
        col = self.chunks()
        out: dict[str, list[str]] = {}
        total, offset, page = col.count(), 0, 5000
        while offset < total:
            got = col.get(include=["metadatas"], limit=page, offset=offset)
            for i, m in zip(got["ids"], got["metadatas"] or [], strict=False):
                src = (m or {}).get("source")
                if src not in known:
                    out.setdefault(str(src), []).append(i)
            offset += page
        return out

    def delete_chunk_ids(self, ids: list[str]) -> None:
        col = self.chunks()
        for b in batched(ids, 5000):
            col.delete(ids=b)

    def files(self):
        client = self.client
        return self._wrap(client.get_or_create_collection(f"{self.name}-files", embedding_function=None), client)

    def drop(self) -> None:
        for n in (self.name, f"{self.name}-sentences", f"{self.name}-files"):
            with contextlib.suppress(Exception):
                self.client.delete_collection(n)

    def _where(self) -> str:
        return self.settings.chroma_url or str(self.settings.chroma_path)

    # ------------------------------------------------------------ bookkeeping
    def _chunks_meta(self) -> dict | None:
        """The chunks collection's metadata; None when there is none (or another process's
        `--rebuild` just dropped it)."""
        from chromadb.errors import NotFoundError

        if not self.exists():
            return None
        try:
            return self.client.get_collection(self.name, embedding_function=None).metadata or {}
        except NotFoundError:
            return None

    def generation(self) -> str:
        meta = self._chunks_meta()
        return "none" if meta is None else str(meta.get("generation", "0"))

    def bump_generation(self) -> str:
        col = self.chunks(create=True)
        meta = dict(col.metadata or {})
        meta["generation"] = uuid.uuid4().hex
        meta["updated"] = time.time()
        with _clients_lock:
            _own.append(meta["generation"])  # this process's readers share the writing client
        col.modify(metadata=meta)
        return meta["generation"]

    def updated_at(self) -> float | None:
        meta = self._chunks_meta()
        return None if meta is None else meta.get("updated")

    def manifest(self) -> dict[str, FileEntry]:
        """source -> its FileEntry."""
        got = self.files().get(include=["metadatas"])
        return {i: FileEntry.from_row(m) for i, m in zip(got["ids"], got["metadatas"] or [], strict=False)}

    def documents(self) -> list[dict]:
        """Ingested documents; one still being written (its entry says so) is not listed yet."""
        out = []
        for source, m in sorted(self.manifest().items(), key=lambda kv: kv[1].doc_id):
            if m.state == "writing":
                continue
            meta = json.loads(m.meta or "{}")
            out.append({**meta, "source": source, "chunks": m.n_chunks, "ingested_at": m.ingested_at})
        return out

    def count(self) -> int:
        return self.chunks().count() if self.exists() else 0


def batched(seq: list, size: int):
    for i in range(0, len(seq), size):
        yield seq[i : i + size]
