"""Keeping the lexical index current with the store, on disk and across processes.

The store's file manifest (source -> content hash) says what the index should hold; the index
says what it holds (its `source` terms carry the content hash). A sync deletes the chunks of
changed or vanished sources and adds those of new or changed ones, in one tantivy commit, so a
sync or ingest killed at any point leaves the last commit, and the next sync finishes the work.
A small state file, written after the commit, records the store generation and collection the
index was synced to: a reader whose generation matches only reloads. Ingest syncs after writing;
every reader syncs when the store's generation moves, so a replica sharing only the Chroma server
catches up the same way. Writers to one folder take a file lock; readers never wait on it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from pathlib import Path

from filelock import FileLock, Timeout

from rag.chunk_schema import authors_of
from rag.lexical.index import LexicalIndex
from rag.store import FileEntry

log = logging.getLogger("rag.lexical")
LEXICAL_VERSION = "5"  # bump when the analyzer or the schema changes: saved indexes are rebuilt
STATE = "cadres-state.json"
FETCH_PAGE = 5000
SOURCES_PER_FETCH = 200
LOCK_TIMEOUT_S = 600


def lexical_text(meta: dict, text: str) -> str:
    """What BM25 reads of a chunk: its document's title and authors, then its text. A question
    that names a work by its author ("Which archives did King and Muminov use?") finds chunks
    that never repeat the authors' names."""
    return f"{meta.get('title', '')}\n{' '.join(authors_of(meta))}\n{text}"


# ---------------------------------------------------------------- disk
def read_state(directory: Path) -> dict | None:
    try:
        m = json.loads((directory / STATE).read_text())
    except (OSError, ValueError):
        return None
    return m if isinstance(m, dict) and m.get("version") == LEXICAL_VERSION else None


def _write_state(index: LexicalIndex) -> None:
    tmp = index.path / (STATE + ".tmp")
    state = {"version": LEXICAL_VERSION, "generation": index.generation, "collection_id": index.collection_id}
    tmp.write_text(json.dumps(state))
    os.replace(tmp, index.path / STATE)


def load(directory: Path) -> LexicalIndex | None:
    """The saved index, or None when missing, unreadable or of another version."""
    state = read_state(directory)  # before the index: its commit is at least as new as the state
    if state is None:
        return None
    try:
        return LexicalIndex(directory, state["generation"], state["collection_id"])
    except (OSError, ValueError, KeyError):
        return None


def _fresh(directory: Path) -> LexicalIndex:
    """An empty index in place of whatever the folder held (an older layout, a damaged index).
    Readers that still have the old files open keep reading them (POSIX)."""
    shutil.rmtree(directory, ignore_errors=True)
    return LexicalIndex(directory)


# ---------------------------------------------------------------- sync
def _fetch_groups(keys: list[str], manifest: dict[str, FileEntry]) -> list[list[str]]:
    """Sources grouped so that one group's chunks fit one page: offset paging in Chroma's SQLite
    rescans the skipped rows, so deep offsets over a large $in filter would cost quadratic time."""
    groups: list[list[str]] = []
    size = 0
    for k in keys:
        n = (manifest[k].n_chunks if k in manifest else 0) or 1
        if groups and size + n <= FETCH_PAGE and len(groups[-1]) < SOURCES_PER_FETCH:
            groups[-1].append(k)
            size += n
        else:
            groups.append([k])
            size = n
    return groups


def sync(index: LexicalIndex, store) -> dict[str, int]:
    """Bring `index` up to the store's manifest in one commit; returns what it did."""
    generation = store.generation()  # read first: a change during the sync shows as a newer stamp
    col = store.chunks()
    manifest = store.manifest()
    wanted = {k: m.content_hash for k, m in manifest.items()}
    with index.write_lock:
        writer = index.writer()
        try:
            index.reload()  # the last commit, whoever made it: the diff must start from there
            rebuilt = index.collection_id != str(col.id)
            held = {} if rebuilt else index.sources()
            if rebuilt:
                writer.delete_all_documents()  # a rebuilt store (or an unknown index): from nothing
            stale = {k: hs for k, hs in held.items() if set(hs) != {wanted.get(k)}}
            fresh = [k for k in wanted if k not in held or k in stale]
            for src, hashes in stale.items():
                for h in hashes:
                    writer.delete_documents_by_term("source", f"{src}\x1f{h}")
            added = _add(writer, store, col, fresh, manifest, wanted)
            writer.commit()
            writer.wait_merging_threads()
        except BaseException:
            with contextlib.suppress(Exception):  # a writer already consumed cannot roll back
                writer.rollback()
            raise
        finally:
            del writer  # releases tantivy's lock file
        index.reload()
        index.generation, index.collection_id = generation, str(col.id)
        if index.path is not None:
            _write_state(index)
    removed = sum(n for hs in stale.values() for n in hs.values())
    return {"added": added, "removed": removed}


def _add(writer, store, col, keys: list[str], manifest: dict[str, FileEntry], wanted: dict[str, str]) -> int:
    added = 0
    for group in _fetch_groups(keys, manifest):
        where = {"source": {"$in": group}} if len(group) > 1 else {"source": group[0]}
        off = 0
        while True:
            got = store.get_chunks(where=where, vectors=False, limit=FETCH_PAGE, offset=off, collection=col)
            for rec in got:
                m = rec.metadata
                src = m.get("source", "")
                text = lexical_text(m, rec.text or "")
                writer.add_document(
                    LexicalIndex.document(rec.chunk_id, text, src, wanted.get(src, ""), m.get("doc_id", ""), m.get("year"))
                )
            added += len(got)
            if len(got) < FETCH_PAGE:
                break
            off += FETCH_PAGE
    return added


def current(store, directory: Path, have: LexicalIndex | None = None, persist: bool = True) -> LexicalIndex:
    """The index at the store's current generation: as held, reloaded from disk, or synced there.

    A reader that cannot write the folder (a read-only replica) syncs an index in memory.
    """
    generation = store.generation()
    if have is not None and have.generation == generation:
        return have
    if have is not None and have.path is None:  # already the in-memory fallback
        sync(have, store)
        return have
    if persist:
        try:
            return _on_disk(store, directory, have)
        except (OSError, Timeout, ValueError) as e:  # tantivy reports I/O errors as ValueError
            log.warning("lexical index in %s not writable (%s): kept in memory", directory, e)
    index = LexicalIndex()
    sync(index, store)
    return index


def _on_disk(store, directory: Path, have: LexicalIndex | None) -> LexicalIndex:
    def reloaded() -> LexicalIndex | None:
        state = read_state(directory)
        if state is None or state["generation"] != store.generation():
            return None
        if have is not None and have.path == directory:
            try:
                have.reload()
            except ValueError:  # the folder was replaced under it (a rebuild elsewhere): open afresh
                return load(directory)
            have.generation, have.collection_id = state["generation"], state["collection_id"]
            return have
        return load(directory)

    if (index := reloaded()) is not None:
        return index
    directory.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(directory) + ".lock", timeout=LOCK_TIMEOUT_S):
        if (index := reloaded()) is not None:  # another process synced meanwhile
            return index
        index = load(directory) or _fresh(directory)
        sync(index, store)
        return index
