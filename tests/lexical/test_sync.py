"""The lexical index follows the store: incremental syncs, saved state, other processes, crashes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from ingest import ingest_paths
from rag import lexical
from rag.embedding import get_embedder
from rag.lexical.sync import STATE
from rag.store import Store

DOCS = {
    "bread.md": "---\ndoc_id: bread\ntitle: Bread\nyear: 1990\n---\nThe internees in Siberia received a bread ration.\n",
    "quarry.md": "---\ndoc_id: quarry\ntitle: Quarry\nyear: 1991\n---\nThe quarrymen of Zelkovan wrote letters home.\n",
    "ships.md": "---\ndoc_id: ships\ntitle: Ships\nyear: 1953\nauthors: [Amy Wexcombe]\n---\nThe Koan Maru sailed from Nakhodka to Maizuru.\n",
}


@pytest.fixture
def corpus(tmp_path, make_settings):
    root = tmp_path / "corpus"
    root.mkdir()
    for name, text in DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
    settings = make_settings(corpus_dir=root)
    assert ingest_paths([root], settings, progress=False).files_added == 3
    store = Store(settings, get_embedder(settings.embedding_model).fingerprint)
    return root, settings, store


def ids(index, query):
    return [cid for cid, _ in index.search(query, 10)]


def test_ingest_leaves_a_saved_index_at_the_store_generation(corpus):
    _, settings, store = corpus
    idx = lexical.load(settings.lexical_dir)
    assert idx is not None and idx.generation == store.generation()
    assert len(idx) == store.count() == 3
    assert ids(idx, "Zelkovan")[0].startswith("quarry::")
    assert ids(idx, "koan maru")[0].startswith("ships::"), "folded and stemmed after a reopen"
    assert ids(idx, "What did Wexcombe write?") == [ids(idx, "koan maru")[0]], "authors are read with the text"


def test_a_changed_file_is_the_only_one_tokenised_again(corpus, tmp_path):
    root, settings, store = corpus
    replica = lexical.current(store, tmp_path / "replica")  # a folder ingest does not sync
    (root / "quarry.md").write_text(DOCS["quarry.md"].replace("Zelkovan", "Pryzanka"), encoding="utf-8")
    (root / "bread.md").unlink()
    report = ingest_paths([root], settings, progress=False)
    assert (report.files_updated, report.files_removed) == (1, 1)
    assert lexical.sync(replica, store) == {"added": 1, "removed": 2}
    assert ids(replica, "Zelkovan") == [] and ids(replica, "bread") == []
    assert ids(replica, "Pryzanka")[0].startswith("quarry::")
    assert len(replica) == store.count() == 2
    assert lexical.sync(replica, store) == {"added": 0, "removed": 0}, "nothing left to do"


def test_a_reader_without_the_saved_index_builds_its_own(corpus, tmp_path):
    """A replica that shares only the Chroma store: its own folder, synced from the store."""
    _, _, store = corpus
    own = tmp_path / "replica" / "lexical"
    idx = lexical.current(store, own)
    assert len(idx) == 3 and (own / STATE).exists()
    assert lexical.current(store, own, have=idx) is idx, "same generation: nothing is read"


def test_a_reader_that_cannot_write_its_folder_keeps_the_index_in_memory(corpus, tmp_path):
    root, settings, store = corpus
    (tmp_path / "a-file").write_text("not a folder")
    idx = lexical.current(store, tmp_path / "a-file" / "lexical")
    assert idx.path is None and len(idx) == 3
    (root / "bread.md").unlink()
    ingest_paths([root], settings, progress=False)
    assert lexical.current(store, tmp_path / "a-file" / "lexical", have=idx) is idx
    assert len(idx) == 2 and ids(idx, "bread") == []


def test_a_held_index_reloads_what_another_writer_committed(corpus):
    """The searcher's index object follows a sync made elsewhere (here: ingest's own index object)."""
    root, settings, store = corpus
    held = lexical.current(store, settings.lexical_dir)
    (root / "new.md").write_text("---\ndoc_id: new\ntitle: New\n---\nThe Hikawa Maru.\n", encoding="utf-8")
    ingest_paths([root], settings, progress=False)
    assert ids(held, "Hikawa") == [], "a reader sees one commit until it reloads"
    again = lexical.current(store, settings.lexical_dir, have=held)
    assert again is held and held.generation == store.generation()
    assert ids(held, "Hikawa")[0].startswith("new::")


def test_a_rebuilt_store_is_not_mixed_with_the_old_index(corpus):
    root, settings, store = corpus
    old = lexical.load(settings.lexical_dir)
    ingest_paths([root], settings, rebuild=True, progress=False)
    store = Store(settings, get_embedder(settings.embedding_model).fingerprint)
    lexical.sync(old, store)
    assert len(old) == store.count() == 3
    assert len(set(ids(old, "Koan Maru"))) == len(ids(old, "Koan Maru"))


def test_a_damaged_saved_index_is_rebuilt(corpus):
    _, settings, store = corpus
    (settings.lexical_dir / STATE).write_text("{not json")
    assert lexical.load(settings.lexical_dir) is None
    assert len(lexical.current(store, settings.lexical_dir)) == 3
    assert lexical.load(settings.lexical_dir) is not None


def test_an_older_layout_is_cleared(corpus):
    _, settings, store = corpus
    (settings.lexical_dir / STATE).unlink()
    (settings.lexical_dir / "manifest.json").write_text("{}")  # the numpy engine's layout
    (settings.lexical_dir / "seg-0001").mkdir()
    assert len(lexical.current(store, settings.lexical_dir)) == 3
    assert not (settings.lexical_dir / "manifest.json").exists()
    assert not (settings.lexical_dir / "seg-0001").exists()


def test_fetch_groups_keep_each_request_within_one_page():
    from rag.lexical.sync import FETCH_PAGE, _fetch_groups
    from rag.store import FileEntry

    sizes = {"a": FETCH_PAGE - 10, "b": 10, "c": 3 * FETCH_PAGE, "d": 0}
    manifest = {k: FileEntry(doc_id=k, n_chunks=n) for k, n in sizes.items()}
    groups = _fetch_groups(list(manifest), manifest)
    assert groups == [["a", "b"], ["c"], ["d"]]
    assert sorted(k for g in groups for k in g) == sorted(manifest)


# A sync in another process, killed (SIGKILL) at a chosen point: mid-way through its adds, or
# after its commit but before its state file.
KILLED_SYNC = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from rag import lexical
    lexsync = sys.modules["rag.lexical.sync"]  # the module; rag.lexical.sync is also the function
    from rag.embedding import model_fingerprint
    from rag.settings import Settings
    from rag.store import Store

    data, folder, point = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    settings = Settings(data_dir=data, chroma_url=None, corpus_dir=data.parent / "corpus")
    store = Store(settings, model_fingerprint(settings.embedding_model))
    die = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
    if point == "adding":
        lexsync.FETCH_PAGE, lexsync.SOURCES_PER_FETCH = 1, 1
        fetch, calls = store.get_chunks, []
        def get_chunks(*a, **k):
            calls.append(1)
            if len(calls) == 3:
                die()
            return fetch(*a, **k)
        store.get_chunks = get_chunks
    else:
        lexsync._write_state = die
    lexical.current(store, folder)
    """
)


@pytest.mark.parametrize("point", ["adding", "committed"])
def test_a_killed_sync_reruns_to_a_clean_build(corpus, tmp_path, point):
    root, settings, store = corpus
    folder = tmp_path / "killed"
    if point == "committed":  # a first sync, then a change whose sync dies before its state file
        lexical.current(store, folder)
        (root / "bread.md").unlink()
        (root / "more.md").write_text("---\ndoc_id: more\n---\nThe Hikawa Maru sailed.\n", encoding="utf-8")
        ingest_paths([root], settings, progress=False)
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_SYNC, str(settings.data_dir), str(folder), point],
        env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    rerun = lexical.current(store, folder)
    clean = lexical.current(store, tmp_path / "clean")
    assert rerun.chunk_ids() == clean.chunk_ids() == _stored_ids(store)
    # Same hits in the same order; scores may differ a little, because tantivy (like Lucene)
    # counts chunks deleted by a sync in N and the average length until their segment is merged.
    for q in ("Koan Maru", "Zelkovan", "bread ration", "Hikawa", "sailed"):
        assert ids(rerun, q) == ids(clean, q), q
    assert rerun.sources() == clean.sources()


def _stored_ids(store) -> set[str]:
    return {rec.chunk_id for rec in store.get_chunks(where=None, vectors=False, limit=1000)}
