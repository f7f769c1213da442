"""Chroma access: embedded PersistentClient or a Chroma server, with the store's own bookkeeping.

Three collections share one name prefix: chunks (what is retrieved), sentences (what the extractive
answerer quotes, embedded at ingest so a query never has to encode them) and files (the manifest that
makes ingest incremental). All shared state lives in Chroma, so replicas on a Chroma server agree.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from typing import Any

from rag.settings import Settings

SCHEMA_VERSION = "1"


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


_clients: dict[tuple, Any] = {}
_clients_lock = threading.Lock()


def get_client(settings: Settings):
    """One client per store location per process (Chroma's embedded client is not meant to be opened twice)."""
    key = (settings.chroma_url, str(settings.chroma_path.resolve()))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = make_client(settings)
        return client


def forget_client(settings: Settings) -> None:
    key = (settings.chroma_url, str(settings.chroma_path.resolve()))
    with _clients_lock:
        _clients.pop(key, None)


class Store:
    def __init__(self, settings: Settings, model_fingerprint: str):
        self.settings = settings
        self.model = model_fingerprint
        self.client = get_client(settings)
        self.name = settings.collection

    # ------------------------------------------------------------ collections
    def _expected_meta(self) -> dict:
        return {
            "schema": SCHEMA_VERSION,
            "embedding_model": self.model,
            "chunk_tokens": self.settings.chunk_tokens,
            "chunk_overlap_tokens": self.settings.chunk_overlap_tokens,
        }

    def exists(self) -> bool:
        return self.name in {c if isinstance(c, str) else c.name for c in self.client.list_collections()}

    def chunks(self, create: bool = False, for_write: bool = False):
        if not create and not self.exists():
            raise StoreError(
                f"no index named {self.name!r} in {self._where()}; run `cadres ingest` first"
            )
        expected = self._expected_meta()
        col = self.client.get_or_create_collection(
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
        return col

    def sentences(self):
        return self.client.get_or_create_collection(
            f"{self.name}-sentences", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
        )

    def files(self):
        return self.client.get_or_create_collection(f"{self.name}-files", embedding_function=None)

    def drop(self) -> None:
        for n in (self.name, f"{self.name}-sentences", f"{self.name}-files"):
            with contextlib.suppress(Exception):
                self.client.delete_collection(n)

    def _where(self) -> str:
        return self.settings.chroma_url or str(self.settings.chroma_path)

    # ------------------------------------------------------------ bookkeeping
    def generation(self) -> str:
        if not self.exists():
            return "none"
        return str((self.client.get_collection(self.name, embedding_function=None).metadata or {}).get("generation", "0"))

    def bump_generation(self) -> str:
        col = self.chunks(create=True)
        meta = dict(col.metadata or {})
        meta["generation"] = uuid.uuid4().hex
        meta["updated"] = time.time()
        col.modify(metadata=meta)
        return meta["generation"]

    def updated_at(self) -> float | None:
        if not self.exists():
            return None
        return (self.client.get_collection(self.name, embedding_function=None).metadata or {}).get("updated")

    def manifest(self) -> dict[str, dict]:
        """source -> {content_hash, doc_id, n_chunks, meta}."""
        got = self.files().get(include=["metadatas"])
        return {i: m for i, m in zip(got["ids"], got["metadatas"] or [], strict=False)}

    def documents(self) -> list[dict]:
        out = []
        for source, m in sorted(self.manifest().items(), key=lambda kv: kv[1].get("doc_id", "")):
            meta = json.loads(m.get("meta", "{}"))
            out.append({**meta, "source": source, "chunks": m.get("n_chunks", 0), "ingested_at": m.get("ingested_at")})
        return out

    def count(self) -> int:
        return self.chunks().count() if self.exists() else 0


def batched(seq: list, size: int):
    for i in range(0, len(seq), size):
        yield seq[i : i + size]
