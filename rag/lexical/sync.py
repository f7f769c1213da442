"""Keeping the lexical index current with the store, on disk and across processes.

The store's file manifest (source -> content hash) says what the index should hold: a sync
compares it with the hashes the index was built from, marks the rows of changed or vanished
sources deleted, and tokenises only the chunks of new or changed sources into a new segment.
Ingest syncs after writing; every reader syncs when the store's generation stamp moves, so a
replica that shares only the Chroma server catches up the same way. Writers to one index folder
take a file lock; readers never wait on it, because a manifest is replaced atomically and
segments are immutable.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from rag.lexical.index import LexicalIndex
from rag.lexical.segment import Segment
from rag.text import lexical_tokens

LEXICAL_VERSION = (
    "3"  # bump when lexical_tokens or the file layout changes: saved indexes are rebuilt
)
FETCH_PAGE = 5000
SOURCES_PER_FETCH = 200


def lexical_text(title: str, text: str) -> str:
    return f"{title}\n{text}"


# ---------------------------------------------------------------- disk
def read_manifest(directory: Path) -> dict | None:
    try:
        m = json.loads((directory / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    return m if isinstance(m, dict) and m.get("version") == LEXICAL_VERSION else None


def load(directory: Path, reuse: LexicalIndex | None = None) -> LexicalIndex | None:
    """The saved index, or None when missing, unreadable or of another version.

    Segments already held by `reuse` are taken from it instead of being read again.
    """
    m = read_manifest(directory)
    if m is None:
        return None
    have = {s.name: s for s in reuse.segments} if reuse else {}
    try:
        segments = [have.get(n) or Segment.load(directory, n) for n in m["segments"]]
        alive = {}
        for s in segments:
            mask = np.ones(len(s), dtype=bool)
            mask[np.asarray(m["deleted"].get(s.name, []), dtype=np.int64)] = False
            alive[s.name] = mask
        return LexicalIndex(
            generation=m["generation"],
            collection_id=m["collection_id"],
            segments=segments,
            alive=alive,
            source_hash=m["sources"],
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return (
            None  # a segment vanished under a concurrent merge, or a damaged file: the caller syncs
        )


def save(index: LexicalIndex, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    on_disk = {p.name[4:] for p in directory.glob("seg-*")}
    for s in index.segments:
        if s.name not in on_disk:
            s.save(directory)
    manifest = {
        "version": LEXICAL_VERSION,
        "generation": index.generation,
        "collection_id": index.collection_id,
        "segments": [s.name for s in index.segments],
        "deleted": {s.name: np.flatnonzero(~index.alive[s.name]).tolist() for s in index.segments},
        "sources": index.source_hash,
    }
    tmp = directory / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest))
    os.replace(tmp, directory / "manifest.json")
    keep = {s.name for s in index.segments}
    for p in directory.iterdir():
        if p.name.startswith("seg-") and p.name[4:] not in keep:
            shutil.rmtree(p, ignore_errors=True)  # open memory maps stay valid on POSIX
        elif p.is_file() and p.name != "manifest.json" and not p.name.startswith("manifest.json."):
            p.unlink(missing_ok=True)  # files of an older layout


# ---------------------------------------------------------------- sync
def _fetch_groups(keys: list[str], manifest: dict[str, dict]) -> list[list[str]]:
    """Sources grouped so that one group's chunks fit one page: offset paging in Chroma's SQLite
    rescans the skipped rows, so deep offsets over a large $in filter would cost quadratic time."""
    groups: list[list[str]] = []
    size = 0
    for k in keys:
        n = int(manifest.get(k, {}).get("n_chunks") or 1)
        if groups and size + n <= FETCH_PAGE and len(groups[-1]) < SOURCES_PER_FETCH:
            groups[-1].append(k)
            size += n
        else:
            groups.append([k])
            size = n
    return groups


def sync(index: LexicalIndex, store) -> dict[str, int]:
    """Bring `index` up to the store's manifest in place; returns what it did."""
    generation = store.generation()  # read first: a change during the sync shows as a newer stamp
    col = store.chunks()
    if index.collection_id != str(col.id):
        index.__init__(collection_id=str(col.id))  # a rebuilt store: start from nothing
    manifest = store.manifest()
    wanted = {k: str(m.get("content_hash", "")) for k, m in manifest.items()}
    stale = {k for k, h in index.source_hash.items() if wanted.get(k) != h}
    fresh = [k for k, h in wanted.items() if index.source_hash.get(k) != h]
    removed = index.remove_sources(stale) if stale else 0
    ids: list[str] = []
    sources: list[str] = []
    doc_ids: list[str] = []
    years: list[int | None] = []
    tokens: list[list[str]] = []
    for keys in _fetch_groups(fresh, manifest):
        where = {"source": {"$in": keys}} if len(keys) > 1 else {"source": keys[0]}
        off = 0
        while True:
            got = store.get_chunks(where=where, vectors=False, limit=FETCH_PAGE, offset=off, collection=col)
            for rec in got:
                m = rec.metadata
                ids.append(rec.chunk_id)
                sources.append(m.get("source", ""))
                doc_ids.append(m.get("doc_id", ""))
                years.append(m.get("year"))
                tokens.append(lexical_tokens(lexical_text(m.get("title", ""), rec.text or "")))
            if len(got) < FETCH_PAGE:
                break
            off += FETCH_PAGE
    index.add(Segment.build(ids, sources, doc_ids, years, tokens), {k: wanted[k] for k in fresh})
    merged = index.compact()
    index.generation = generation
    return {"added": len(ids), "removed": removed, "merged": int(merged)}


def _copy(index: LexicalIndex) -> LexicalIndex:
    """A copy a sync may change: the segments are shared (immutable), the deletion masks are not."""
    return LexicalIndex(
        generation=index.generation,
        collection_id=index.collection_id,
        segments=list(index.segments),
        alive={k: v.copy() for k, v in index.alive.items()},
        source_hash=dict(index.source_hash),
    )


def current(
    store, directory: Path, have: LexicalIndex | None = None, persist: bool = True
) -> LexicalIndex:
    """The index at the store's current generation: from memory, from disk, or synced (and saved).

    A reader that cannot write the folder (a read-only replica) keeps its synced index in memory.
    """
    generation = store.generation()
    if have is not None and have.generation == generation:
        return have
    on_disk = load(directory, reuse=have)
    if on_disk is not None and on_disk.generation == generation:
        return on_disk
    # Never `have` itself: requests in flight may be searching it while this syncs.
    index = on_disk or (_copy(have) if have is not None else LexicalIndex())
    if not persist:
        sync(index, store)
        return index
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(directory) + ".lock", timeout=600)
        with lock:
            again = load(directory, reuse=index)  # another process may have synced meanwhile
            if again is not None and again.generation == store.generation():
                return again
            index = again or index
            sync(index, store)
            with contextlib.suppress(OSError):
                save(index, directory)
    except (OSError, Timeout):
        sync(index, store)
    return index
