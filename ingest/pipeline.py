"""ingest_paths: files in, chunks and sentence vectors out, incrementally and crash-safely.

Order of writes per file: old chunks deleted, new chunks and sentences upserted, manifest entry
written last. A run killed anywhere leaves a file without a current manifest entry, so the next run
redoes exactly that file; chunk ids are deterministic, so the end state equals a clean run's.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from ingest.chunking import Chunk, chunk_pages, content_hash
from ingest.discovery import discover
from ingest.errors import FileRejected
from ingest.loaders import load_file
from ingest.metadata import read_metadata, sidecar_for
from rag import lexical
from rag.embedding import Embedder, get_embedder
from rag.models import DocumentMeta, FileFailure, IngestReport
from rag.settings import Settings, get_settings
from rag.store import Store, StoreError, batched

PIPELINE_VERSION = "3"  # bump when cleaning or chunking changes, so every file is redone


class IngestFatal(RuntimeError):
    """The run cannot proceed at all (exit code 1)."""


@dataclass
class Prepared:
    key: str
    path: Path
    meta: DocumentMeta
    chunks: list[Chunk]
    digest: str


def embed_text(meta: DocumentMeta, chunk_text: str) -> str:
    """Chunks are embedded with their document's title in front: it disambiguates short passages."""
    return f"{_title_prefix(meta)}\n{chunk_text}"


def _title_prefix(meta: DocumentMeta) -> str:
    return " ".join(meta.title.split()[:14])


def _chunk_metadata(meta: DocumentMeta, key: str, c: Chunk, digest: str) -> dict:
    m = {
        "doc_id": meta.doc_id,
        "source": key,
        "chunk_index": c.index,
        "char_start": c.start,
        "char_end": c.end,
        "title": meta.title,
        "authors": "; ".join(meta.authors),
        "source_type": meta.source_type,
        "content_hash": digest,
        "tokens": c.tokens,
        "sentences": json.dumps([[s.start, s.end] for s in c.sentences]),
    }
    for f in ("year", "container", "volume", "issue", "pages", "url", "doi"):
        v = getattr(meta, f)
        if v is not None:
            m[f] = v
    if c.page is not None:
        m["page"] = c.page
    return m


def _prepare(path: Path, key: str, settings: Settings, embedder: Embedder, digest: str) -> Prepared:
    loaded = load_file(path)
    meta = read_metadata(path, loaded.front_matter, loaded.html_title)
    text_parts, ranges, pos = [], [], 0
    for page, t in loaded.pages:
        text_parts.append(t)
        ranges.append((page, pos, pos + len(t)))
        pos += len(t) + 2
    doc_text = "\n\n".join(text_parts)
    reserve = embedder.count_tokens([_title_prefix(meta)])[0] + 1
    chunks = chunk_pages(
        doc_text, ranges, meta.doc_id, embedder, settings.chunk_tokens, settings.chunk_overlap_tokens, reserve
    )
    if not chunks:
        raise FileRejected(f"{path.name}: empty file (no text after cleaning)")
    return Prepared(key, path, meta, chunks, digest)


def _file_digest(path: Path, settings: Settings) -> str:
    side = sidecar_for(path)
    extra = side.read_bytes().hex() if side.exists() else ""
    return content_hash(
        path.read_bytes(),
        f"{PIPELINE_VERSION}|{settings.chunk_tokens}|{settings.chunk_overlap_tokens}|{extra}",
    )


def _delete_source(store: Store, key: str) -> int:
    chunks = store.chunks()
    old = chunks.get(where={"source": key}, include=[])["ids"]
    for batch in batched(old, 5000):
        chunks.delete(ids=batch)
    store.sentences().delete(where={"source": key})
    return len(old)


def _write(store: Store, embedder: Embedder, p: Prepared, max_batch: int) -> None:
    col, sents = store.chunks(), store.sentences()
    vecs = embedder.encode([embed_text(p.meta, c.text) for c in p.chunks])
    rows = list(range(len(p.chunks)))
    for b in batched(rows, max_batch):
        col.upsert(
            ids=[p.chunks[i].chunk_id for i in b],
            embeddings=vecs[b],
            documents=[p.chunks[i].text for i in b],
            metadatas=[_chunk_metadata(p.meta, p.key, p.chunks[i], p.digest) for i in b],
        )
    s_ids, s_texts, s_meta = [], [], []
    for c in p.chunks:
        for j, s in enumerate(c.sentences):
            s_ids.append(f"{c.chunk_id}::s{j:03d}")
            s_texts.append(s.text)
            s_meta.append({"chunk_id": c.chunk_id, "doc_id": p.meta.doc_id, "source": p.key, "start": s.start, "end": s.end})
    s_vecs = embedder.encode(s_texts)
    for b in batched(list(range(len(s_ids))), max_batch):
        sents.upsert(
            ids=[s_ids[i] for i in b], embeddings=s_vecs[b], documents=[s_texts[i] for i in b], metadatas=[s_meta[i] for i in b]
        )
    store.files().upsert(
        ids=[p.key],
        embeddings=[[0.0]],
        metadatas=[
            {
                "content_hash": p.digest,
                "doc_id": p.meta.doc_id,
                "n_chunks": len(p.chunks),
                "ingested_at": time.time(),
                "meta": p.meta.model_dump_json(),
            }
        ],
    )


def ingest_paths(
    paths: list[str | Path] | None = None,
    settings: Settings | None = None,
    *,
    rebuild: bool = False,
    progress: bool | None = None,
) -> IngestReport:
    """Ingest files and folders; bad files are reported in the result and never stop the run."""
    settings = settings or get_settings()
    t0 = time.perf_counter()
    paths = [Path(p) for p in (paths or [settings.corpus_dir])]
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(settings.data_dir / "ingest.lock"), timeout=settings.ingest_lock_timeout)
        lock.acquire()
    except Timeout as e:
        raise IngestFatal(
            f"another ingest is running on {settings.data_dir} (waited {settings.ingest_lock_timeout:g} s "
            "for its lock); try again when it has finished"
        ) from e
    except OSError as e:
        raise IngestFatal(f"data dir {settings.data_dir} is not writable ({e.strerror or e})") from e
    try:
        return _run(paths, settings, rebuild, progress, t0)
    except StoreError as e:
        raise IngestFatal(str(e)) from e
    finally:
        lock.release()


def _run(paths: list[Path], settings: Settings, rebuild: bool, progress: bool | None, t0: float) -> IngestReport:
    from tqdm import tqdm

    embedder = get_embedder(settings.embedding_model, settings.torch_threads)
    store = Store(settings, embedder.fingerprint)
    if rebuild:
        store.drop()
    store.chunks(create=True, for_write=True)
    max_batch = max(1, min(1000, store.client.get_max_batch_size()))
    report = IngestReport()
    found = discover(paths)
    report.files_failed.extend(FileFailure(path=p, error=r) for p, r in found.rejected)
    manifest = store.manifest()
    cap = int(settings.max_file_mb * 2**20)
    dirty = False
    # Files gone from a folder that was walked completely go first, so that a renamed file may
    # keep its doc_id.
    seen = {f.key for f in found.files}
    for key in list(manifest):
        if key in seen or not any(key.startswith(r.as_posix() + "/") for r in found.roots):
            continue
        if not dirty:
            store.bump_generation()
            dirty = True
        report.chunks_removed += _delete_source(store, key)
        store.files().delete(ids=[key])
        del manifest[key]
        report.files_removed += 1
    owner = {m.get("doc_id"): k for k, m in manifest.items()}
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(found.files, desc="ingest", unit="file", disable=not show, file=sys.stderr)
    for f in bar:
        report.files_seen += 1
        try:
            size = f.path.stat().st_size
            if size > cap:
                raise FileRejected(
                    f"{f.path.name}: over the size cap ({size / 2**20:.3g} MB > {settings.max_file_mb:g} MB)"
                )
            digest = _file_digest(f.path, settings)
            prev = manifest.get(f.key)
            if prev and prev.get("content_hash") == digest:
                report.files_unchanged += 1
                continue
            prepared = _prepare(f.path, f.key, settings, embedder, digest)
            holder = owner.get(prepared.meta.doc_id)
            if holder and holder != f.key:
                raise FileRejected(
                    f"{f.path.name}: doc_id {prepared.meta.doc_id!r} is already used by {holder}; "
                    "give this document its own doc_id in its metadata"
                )
            if not dirty:
                store.bump_generation()
                dirty = True
            report.chunks_removed += _delete_source(store, f.key)
            _write(store, embedder, prepared, max_batch)
            owner[prepared.meta.doc_id] = f.key
            report.chunks_added += len(prepared.chunks)
            if prev:
                report.files_updated += 1
            else:
                report.files_added += 1
            bar.set_postfix(chunks=report.chunks_added)
        except FileRejected as e:
            report.files_failed.append(FileFailure(path=str(f.path), error=str(e)))
        except (OSError, UnicodeError) as e:
            report.files_failed.append(FileFailure(path=str(f.path), error=f"{f.path.name}: unreadable ({e})"))
    if dirty:
        store.bump_generation()  # again at the end: a reader that synced mid-run must look once more
    lexical.current(store, settings.lexical_dir)
    report.chunks_total = store.count()
    report.seconds = round(time.perf_counter() - t0, 3)
    return report
