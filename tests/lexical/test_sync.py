"""The lexical index follows the store: incremental syncs, saved state, readers in other places."""

from __future__ import annotations

import pytest

from ingest import ingest_paths
from rag import lexical
from rag.embedding import get_embedder
from rag.store import Store

DOCS = {
    "bread.md": "---\ndoc_id: bread\ntitle: Bread\nyear: 1990\n---\nThe internees in Siberia received a bread ration.\n",
    "quarry.md": "---\ndoc_id: quarry\ntitle: Quarry\nyear: 1991\n---\nThe quarrymen of Zelkovan wrote letters home.\n",
    "ships.md": "---\ndoc_id: ships\ntitle: Ships\nyear: 1953\n---\nThe Koan Maru sailed from Nakhodka to Maizuru.\n",
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


def test_a_changed_file_is_the_only_one_tokenised_again(corpus):
    root, settings, store = corpus
    idx = lexical.load(settings.lexical_dir)
    (root / "quarry.md").write_text(
        DOCS["quarry.md"].replace("Zelkovan", "Pryzanka"), encoding="utf-8"
    )
    (root / "bread.md").unlink()
    report = ingest_paths([root], settings, progress=False)
    assert (report.files_updated, report.files_removed) == (1, 1)
    did = lexical.sync(idx, store)  # the old in-memory index catches up from the store alone
    assert did["added"] == 1 and did["removed"] == 2
    assert ids(idx, "Zelkovan") == []
    assert ids(idx, "Pryzanka")[0].startswith("quarry::")
    assert ids(idx, "bread") == []
    assert len(idx) == store.count() == 2
    assert lexical.sync(idx, store) == {"added": 0, "removed": 0, "merged": 0}, "nothing left to do"


def test_a_reader_without_the_saved_index_builds_its_own(corpus, tmp_path):
    """A replica that shares only the Chroma store: its own folder, synced from the store."""
    _, settings, store = corpus
    own = tmp_path / "replica" / "lexical"
    idx = lexical.current(store, own)
    assert len(idx) == 3 and (own / "manifest.json").exists()
    again = lexical.current(store, own, have=idx)
    assert again is idx, "same generation: nothing is read"


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
    (settings.lexical_dir / "manifest.json").write_text("{not json")
    assert lexical.load(settings.lexical_dir) is None
    idx = lexical.current(store, settings.lexical_dir)
    assert len(idx) == 3
    assert lexical.load(settings.lexical_dir) is not None


def test_fetch_groups_keep_each_request_within_one_page():
    from rag.lexical.sync import FETCH_PAGE, _fetch_groups

    manifest = {"a": {"n_chunks": FETCH_PAGE - 10}, "b": {"n_chunks": 10}, "c": {"n_chunks": 3 * FETCH_PAGE}, "d": {}}
    groups = _fetch_groups(list(manifest), manifest)
    assert groups == [["a", "b"], ["c"], ["d"]]
    assert sorted(k for g in groups for k in g) == sorted(manifest)


def test_an_older_layout_is_cleared_on_save(corpus):
    _, settings, store = corpus
    (settings.lexical_dir / "data.csc.index.npy").write_bytes(b"old")
    (settings.lexical_dir / "manifest.json").unlink()
    lexical.current(store, settings.lexical_dir)
    assert not (settings.lexical_dir / "data.csc.index.npy").exists()
    assert lexical.load(settings.lexical_dir) is not None
