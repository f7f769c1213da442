"""ingest_paths: files in, chunks and sentence vectors out, incrementally and crash-safely.

Order of writes per file: old chunks deleted, new chunks and sentences upserted, manifest entry
written last. A run killed anywhere leaves a file without a current manifest entry, so the next run
redoes exactly that file; chunk ids are deterministic, so the end state equals a clean run's.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from ingest.chunking import Chunk, chunk_pages, content_hash
from ingest.cleaning import drop_unbroken_runs
from ingest.discovery import discover
from ingest.errors import FileRejected
from ingest.loaders import load_file
from ingest.metadata import read_metadata, sidecar_for
from rag import lexical
from rag.chunk_schema import chunk_metadata
from rag.embedding import Embedder, get_embedder
from rag.models import DocumentMeta, FileFailure, FileWarning, IngestReport
from rag.settings import Settings, get_settings
from rag.store import ChunkRecord, FileEntry, Store, StoreError

PIPELINE_VERSION = "6"  # bump when cleaning, chunking or what a chunk stores changes: every file is redone


class IngestFatal(RuntimeError):
    """The run cannot proceed at all (exit code 1)."""


@dataclass
class Prepared:
    key: str
    path: Path
    meta: DocumentMeta
    chunks: list[Chunk]
    digest: str
    ocr: dict[int, float]
    warnings: list[str]


def embed_text(meta: DocumentMeta, chunk_text: str) -> str:
    """Chunks are embedded with their document's title in front: it disambiguates short passages."""
    return f"{_title_prefix(meta)}\n{chunk_text}"


def _title_prefix(meta: DocumentMeta) -> str:
    return " ".join(meta.title.split()[:14])


def _chunk_metadata(meta: DocumentMeta, key: str, c: Chunk, digest: str, ocr: dict[int, float]) -> dict:
    return chunk_metadata(
        meta, key, index=c.index, start=c.start, end=c.end, tokens=c.tokens,
        sentence_spans=[(s.start, s.end) for s in c.sentences], content_hash=digest,
        page=c.page, ocr_confidence=ocr.get(c.page) if c.page is not None else None,
    )


def _prepare(path: Path, key: str, settings: Settings, embedder: Embedder, digest: str) -> Prepared:
    loaded = load_file(path, settings)
    meta = read_metadata(path, loaded.front_matter, loaded.html_title)
    text_parts, ranges, pos = [], [], 0
    dropped: list[int] = []
    for page, raw in loaded.pages:
        t, runs = drop_unbroken_runs(raw)
        t = t.strip()
        dropped += runs
        if not t:
            continue
        text_parts.append(t)
        ranges.append((page, pos, pos + len(t)))
        pos += len(t) + 2
    doc_text = "\n\n".join(text_parts)
    reserve = embedder.count_tokens([_title_prefix(meta)])[0] + 1
    warnings = list(loaded.warnings)
    if dropped:
        what = (
            f"{len(dropped)} unbroken run{'s' if len(dropped) > 1 else ''} of {sum(dropped):,} characters "
            "with no spaces (base64, a data dump or the like), which is not prose"
        )
        if not text_parts:
            raise FileRejected(f"{path.name}: no prose to ingest: {what}")
        warnings.append(f"{path.name}: left out {what}")
    chunks = chunk_pages(
        doc_text,
        ranges,
        meta.doc_id,
        embedder,
        settings.chunk_tokens,
        settings.chunk_overlap_tokens,
        reserve,
        settings.max_chunk_chars,
    )
    if not chunks:
        raise FileRejected(f"{path.name}: empty file (no text after cleaning)")
    return Prepared(key, path, meta, chunks, digest, loaded.ocr, warnings)


def _file_digest(path: Path, settings: Settings) -> str:
    side = sidecar_for(path)
    extra = side.read_bytes().hex() if side.exists() else ""
    if path.suffix.lower() == ".pdf":  # how its scanned pages are read is part of what it became
        extra += f"|ocr={settings.ocr}:{settings.ocr_languages}:{settings.ocr_min_confidence:g}"
    return content_hash(
        path.read_bytes(),
        f"{PIPELINE_VERSION}|{settings.chunk_tokens}|{settings.chunk_overlap_tokens}|{settings.max_chunk_chars}|"
        f"{settings.sentence_vectors}|{extra}",
    )


def _manifest_entry(p: Prepared, **fields) -> FileEntry:
    """A file's manifest entry: its document, plus the state of its write (see _mark_writing)."""
    return FileEntry(doc_id=p.meta.doc_id, meta=p.meta.model_dump_json(), **fields)


def _mark_writing(store: Store, p: Prepared) -> None:
    """Intent first: a run killed from here on leaves an entry that says "writing", so the next run
    knows these chunks are partial (see _Run.reconcile)."""
    store.put_file(p.key, _manifest_entry(p, state="writing"))


def _embed(embedder: Embedder, p: Prepared, pooled: bool) -> tuple[np.ndarray, np.ndarray]:
    """Chunk vectors and sentence vectors (in chunk, then sentence order). Pooled: both from one
    forward pass per chunk (see Embedder.encode_with_spans); else each sentence on its own."""
    texts = [embed_text(p.meta, c.text) for c in p.chunks]
    if not pooled:
        sentences = [s.text for c in p.chunks for s in c.sentences]
        return embedder.encode(texts), embedder.encode(sentences)
    shift = len(_title_prefix(p.meta)) + 1  # embed_text puts the title and a newline in front
    vecs, per_chunk = embedder.encode_with_spans(texts, [[(s.start + shift, s.end + shift) for s in c.sentences] for c in p.chunks])
    parts = [v for v in per_chunk if len(v)]
    return vecs, (np.vstack(parts) if parts else np.zeros((0, vecs.shape[1]), dtype=np.float32))


def _write(store: Store, embedder: Embedder, p: Prepared, pooled: bool = True) -> None:
    vecs, s_vecs = _embed(embedder, p, pooled)
    records, at = [], 0
    for i, c in enumerate(p.chunks):
        n = len(c.sentences)
        meta = _chunk_metadata(p.meta, p.key, c, p.digest, p.ocr)
        records.append(ChunkRecord(c.chunk_id, c.text, meta, vecs[i], s_vecs[at : at + n]))
        at += n
    store.write_chunks(records)
    entry = _manifest_entry(
        p, content_hash=p.digest, n_chunks=len(p.chunks), n_sentences=at, ingested_at=time.time()
    )
    store.put_file(p.key, entry)


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


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _gone(key: str) -> bool:
    """True only when the file is known not to exist: a path that cannot be checked (a folder without
    permission) counts as present, so its documents are never removed by mistake."""
    try:
        os.stat(key)
        return False
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False


def _under(key: str, folders: list[Path]) -> bool:
    return any(key == d.as_posix() or key.startswith(d.as_posix() + "/") for d in folders)


class _Run:
    """One run's mutable state: the store, the manifest as it is now, the report."""

    def __init__(self, store: Store, report: IngestReport):
        self.store = store
        self.report = report
        self.manifest = store.manifest()
        self.owners = {m.doc_id: k for k, m in self.manifest.items()}
        self.dirty = False

    def touch(self) -> None:
        """Readers must see a new generation before the first write of a run."""
        if not self.dirty:
            self.store.bump_generation()
            self.dirty = True

    def remove(self, key: str) -> int:
        """A source's chunks, sentences and manifest entry, gone; returns its chunk count."""
        self.touch()
        n = self.store.delete_source(key)
        self.store.delete_file(key)
        gone = self.manifest.pop(key, None)
        if gone and self.owners.get(gone.doc_id) == key:
            del self.owners[gone.doc_id]
        self.report.chunks_removed += n
        return n

    def retire(self, key: str) -> int:
        """A file's earlier version removed and counted as a removed file; returns its chunk count."""
        self.report.files_removed += 1
        return self.remove(key)

    def written(self, key: str, doc_id: str, digest: str) -> None:
        self.manifest[key] = FileEntry(doc_id=doc_id, content_hash=digest)
        self.owners[doc_id] = key

    def reconcile(self) -> None:
        """Make the store agree with the manifest before anything else is written.

        A file whose entry still says "writing" was cut short by a killed run: its partial chunks go
        (the file is redone if this run lists it). Chunks whose source has no entry at
        all (left by a run killed before intent was recorded) are swept; the sweep reads every
        chunk's metadata, so it runs only when the counts disagree.
        """
        for key, m in list(self.manifest.items()):
            if m.state == "writing":
                n = self.remove(key)
                self.report.warnings.append(
                    FileWarning(path=key, warning=f"an earlier ingest stopped while writing this file; its {n} partial chunks were removed")
                )
        if self.store.count() != sum(m.n_chunks for m in self.manifest.values()):
            self._sweep(set(self.manifest))

    def _sweep(self, known: set[str]) -> None:
        for src, ids in self.store.orphans(known).items():
            self.touch()
            self.store.delete_chunk_ids(ids)
            self.report.chunks_removed += len(ids)
            self.report.warnings.append(
                FileWarning(path=src, warning=f"removed {len(ids)} chunks left by an interrupted ingest (no manifest entry)")
            )


def _run(paths: list[Path], settings: Settings, rebuild: bool, progress: bool | None, t0: float) -> IngestReport:
    from tqdm import tqdm

    embedder = get_embedder(settings.embedding_model, settings.torch_threads)
    _ = embedder.max_tokens  # load now: a broken model folder fails before an index is created under its name
    store = Store(settings, embedder.fingerprint)
    if rebuild:
        store.drop()
    store.chunks(create=True, for_write=True)
    store.drop_legacy_sentences()
    report = IngestReport()
    run = _Run(store, report)
    run.reconcile()
    found = discover(paths)
    report.files_failed.extend(FileFailure(path=p, error=r) for p, r in found.rejected)
    cap = int(settings.max_file_mb * 2**20)
    # Files gone from a folder that was walked completely go first, so that a renamed file may
    # keep its doc_id. A folder that could not be read keeps its documents.
    seen = {f.key for f in found.files}
    for key in list(run.manifest):
        if key in seen or not _under(key, found.roots) or _under(key, found.unreadable):
            continue
        run.retire(key)
    # Same content under a path that no longer exists: a rename, so the old entry goes.
    gone_by_hash: dict[str, list[str]] = {}
    for key, m in run.manifest.items():
        if key not in seen and _gone(key):
            gone_by_hash.setdefault(m.content_hash, []).append(key)
    show = sys.stderr.isatty() if progress is None else progress
    sizes = [_size(f.path) for f in found.files]
    # Progress in bytes, so the ETA weighs a 300-page PDF above a note; files and chunks ride along.
    bar = tqdm(
        total=sum(sizes), desc="ingest", unit="B", unit_scale=True, unit_divisor=1024,
        disable=not show, file=sys.stderr, smoothing=0.1,
    )
    for i, f in enumerate(found.files):
        bar.set_postfix(files=f"{i}/{len(found.files)}", chunks=report.chunks_added, refresh=False)
        report.files_seen += 1
        prev = run.manifest.get(f.key)
        try:
            size = f.path.stat().st_size
            if size > cap:
                raise FileRejected(
                    f"{f.path.name}: over the size cap ({size / 2**20:.3g} MB > {settings.max_file_mb:g} MB)"
                )
            digest = _file_digest(f.path, settings)
            if prev and prev.content_hash == digest:
                report.files_unchanged += 1
                bar.total -= sizes[i]  # skipped at once: not part of the work the ETA predicts
                sizes[i] = 0
                continue  # (the `finally` below still runs)
            prepared = _prepare(f.path, f.key, settings, embedder, digest)
            holder = run.owners.get(prepared.meta.doc_id)
            if holder and holder != f.key:
                if not _gone(holder):
                    raise FileRejected(
                        f"{f.path.name}: doc_id {prepared.meta.doc_id!r} is already used by {holder}; "
                        "give this document its own doc_id in its metadata"
                    )
                run.retire(holder)  # its file no longer exists: this one succeeds it
            for old in gone_by_hash.pop(digest, []):
                if old != f.key and old in run.manifest:
                    run.retire(old)
            run.touch()
            _mark_writing(store, prepared)
            report.chunks_removed += store.delete_source(f.key)
            _write(store, embedder, prepared, settings.sentence_vectors == "pooled")
            run.written(f.key, prepared.meta.doc_id, digest)
            report.chunks_added += len(prepared.chunks)
            report.warnings.extend(FileWarning(path=str(f.path), warning=w) for w in prepared.warnings)
            if prev:
                report.files_updated += 1
            else:
                report.files_added += 1
        except OSError as e:
            # Could not be read at all (permissions, I/O): what was ingested before stays.
            kept = "; the version ingested earlier is kept" if prev else ""
            reason = e.strerror or str(e)
            report.files_failed.append(FileFailure(path=str(f.path), error=f"{f.path.name}: unreadable ({reason}){kept}"))
        except (FileRejected, UnicodeError) as e:
            # Read, but no longer ingestible: its earlier version would be stale, so it goes.
            msg = str(e) if isinstance(e, FileRejected) else f"{f.path.name}: undecodable text ({e})"
            if prev:
                n = run.retire(f.key)
                msg += f"; its earlier version was removed from the store ({n} chunks)"
            report.files_failed.append(FileFailure(path=str(f.path), error=msg))
        finally:
            bar.update(sizes[i])
    bar.set_postfix(files=f"{len(found.files)}/{len(found.files)}", chunks=report.chunks_added)
    bar.close()
    if run.dirty:
        store.bump_generation()  # again at the end: a reader that synced mid-run must look once more
    lexical.current(store, settings.lexical_dir)
    report.chunks_total = store.count()
    report.seconds = round(time.perf_counter() - t0, 3)
    return report
