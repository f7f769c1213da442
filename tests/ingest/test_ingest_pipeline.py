"""ingest.pipeline: incremental, idempotent, deterministic ingestion into a real embedded Chroma."""

from __future__ import annotations

import numpy as np
import pytest
from ingest_testlib import (
    chunks_of,
    open_store,
    prose,
    sentence_rows,
    snapshot,
    stored_chunks,
    write,
)

from ingest import IngestFatal, ingest_paths
from rag.store import Store, StoreMismatch


def _corpus(root, n=3):
    for i in range(n):
        write(root / f"doc-{i}.txt", prose(3, seed=100 + i))
    return root


def _ids_of(settings, path) -> set[str]:
    return {cid for cid, _, _ in chunks_of(settings, path)}


@pytest.fixture
def encode_calls(monkeypatch, embedder):
    """Counts texts sent to the (real) embedding model."""
    calls: list[int] = []
    for name in ("encode", "encode_with_spans"):  # the separate and the pooled sentence-vector paths
        real = getattr(embedder, name)

        def spy(texts, *a, _real=real, **kw):
            calls.append(len(texts))
            return _real(texts, *a, **kw)

        monkeypatch.setattr(embedder, name, spy)
    return calls


# --------------------------------------------------------------------------- idempotence


def test_first_run_report(tmp_path, make_settings):
    root = _corpus(tmp_path / "docs")
    r = ingest_paths([root], make_settings(), progress=False)
    assert (r.files_seen, r.files_added, r.files_updated, r.files_unchanged, r.files_removed) == (
        3,
        3,
        0,
        0,
        0,
    )
    assert r.files_failed == []
    assert r.chunks_added == r.chunks_total == 3
    assert r.chunks_removed == 0
    assert r.seconds > 0
    assert r.exit_code == 0


def test_second_run_changes_nothing_and_embeds_nothing(tmp_path, make_settings, encode_calls):
    root = _corpus(tmp_path / "docs")
    settings = make_settings()
    first = ingest_paths([root], settings, progress=False)
    assert sum(encode_calls) > 0
    store = open_store(settings)
    before, generation = snapshot(settings), store.generation()
    stamps = {k: m.ingested_at for k, m in store.manifest().items()}
    encode_calls.clear()

    again = ingest_paths([root], settings, progress=False)
    assert again.chunks_added == again.chunks_removed == 0
    assert again.files_unchanged == again.files_seen == 3
    assert again.files_added == again.files_updated == again.files_removed == 0
    assert again.chunks_total == first.chunks_total
    assert encode_calls == [], "nothing may be re-embedded"
    assert store.generation() == generation
    assert {k: m.ingested_at for k, m in store.manifest().items()} == stamps
    assert snapshot(settings) == before


def test_clean_runs_give_identical_ids(tmp_path, make_settings):
    root = tmp_path / "docs"
    _corpus(root)
    write(root / "sub" / "long.md", "# Long\n\n" + "\n\n".join(prose(6, seed=s) for s in range(4)))
    a = make_settings(data_dir=tmp_path / "a", chunk_tokens=48, chunk_overlap_tokens=12)
    b = make_settings(data_dir=tmp_path / "b", chunk_tokens=48, chunk_overlap_tokens=12)
    ra = ingest_paths([root], a, progress=False)
    rb = ingest_paths([root], b, progress=False)
    assert ra.chunks_added == rb.chunks_added > 5
    sa, sb = snapshot(a), snapshot(b)
    assert set(sa["chunks"]) == set(sb["chunks"])
    assert sa == sb


# --------------------------------------------------------------------------- updates


def test_edited_file_is_replaced_not_duplicated(tmp_path, make_settings):
    root = tmp_path / "docs"
    target = write(root / "shrinks.txt", prose(12, seed=1))
    write(root / "other.txt", prose(2, seed=2))
    settings = make_settings(chunk_tokens=32, chunk_overlap_tokens=0)
    first = ingest_paths([root], settings, progress=False)
    old_ids = _ids_of(settings, target)
    old_sentences = {s for s, (_, m) in sentence_rows(settings).items() if m["chunk_id"] in old_ids}
    assert len(old_ids) >= 4
    other_before = chunks_of(settings, root / "other.txt")

    write(target, "Only one short sentence remains.")
    r = ingest_paths([root], settings, progress=False)
    assert (r.files_updated, r.files_unchanged, r.files_added, r.files_removed) == (1, 1, 0, 0)
    assert r.chunks_removed == len(old_ids)
    assert r.chunks_added == 1
    assert r.chunks_total == first.chunks_total - len(old_ids) + 1 == open_store(settings).count()

    rows = chunks_of(settings, target)
    assert [(cid, text) for cid, text, _ in rows] == [
        ("shrinks::00000", "Only one short sentence remains.")
    ]
    assert not (old_ids - {"shrinks::00000"}) & set(stored_chunks(settings))
    sents = {
        s: d for s, (d, m) in sentence_rows(settings).items() if m["source"] == rows[0][2]["source"]
    }
    assert sents == {"shrinks::00000::s000": "Only one short sentence remains."}
    assert not (old_sentences - set(sents)) & set(sentence_rows(settings))
    assert chunks_of(settings, root / "other.txt") == other_before


def test_edited_file_equals_clean_ingest_of_new_version(tmp_path, make_settings):
    root = tmp_path / "docs"
    target = write(root / "grows.txt", prose(2, seed=1))
    settings = make_settings(chunk_tokens=32, chunk_overlap_tokens=8)
    ingest_paths([root], settings, progress=False)
    write(target, prose(9, seed=3))
    r = ingest_paths([root], settings, progress=False)
    assert r.files_updated == 1
    clean = make_settings(data_dir=tmp_path / "clean", chunk_tokens=32, chunk_overlap_tokens=8)
    ingest_paths([root], clean, progress=False)
    assert snapshot(settings)["chunks"] == snapshot(clean)["chunks"]
    assert snapshot(settings)["sentences"] == snapshot(clean)["sentences"]


def test_sidecar_edit_updates_the_document(tmp_path, make_settings):
    root = tmp_path / "docs"
    target = write(root / "a.txt", prose(2))
    write(root / "a.txt.meta.yaml", "title: First Title\n")
    settings = make_settings()
    ingest_paths([root], settings, progress=False)
    write(root / "a.txt.meta.yaml", "title: Second Title\nyear: 1952\n")
    r = ingest_paths([root], settings, progress=False)
    assert r.files_updated == 1 and r.chunks_added == 1 and r.chunks_removed == 1
    ((_, _, meta),) = chunks_of(settings, target)
    assert meta["title"] == "Second Title" and meta["year"] == 1952


def test_deleted_file_is_removed_with_its_sentences(tmp_path, make_settings):
    root = _corpus(tmp_path / "docs")
    settings = make_settings()
    ingest_paths([root], settings, progress=False)
    gone = root / "doc-1.txt"
    key = gone.resolve().as_posix()
    n = len(chunks_of(settings, gone))
    assert n >= 1 and any(m["source"] == key for _, m in sentence_rows(settings).values())
    gone.unlink()

    r = ingest_paths([root], settings, progress=False)
    assert (r.files_removed, r.files_unchanged, r.files_seen) == (1, 2, 2)
    assert r.chunks_removed == n and r.chunks_added == 0
    assert chunks_of(settings, gone) == []
    assert not any(m["source"] == key for _, m in sentence_rows(settings).values())
    assert key not in open_store(settings).manifest()
    assert r.chunks_total == open_store(settings).count() == 2


def test_removal_only_inside_folders_walked_in_this_run(tmp_path, make_settings):
    a, b = _corpus(tmp_path / "a", 2), _corpus(tmp_path / "b", 2)
    # Same file names in both folders would collide on doc_id; rename b's.
    for p in list(b.iterdir()):
        p.rename(p.with_name("b-" + p.name))
    settings = make_settings()
    ingest_paths([a, b], settings, progress=False)
    assert open_store(settings).count() == 4

    r = ingest_paths([a], settings, progress=False)  # b not walked: its files stay
    assert r.files_removed == 0 and open_store(settings).count() == 4

    (a / "doc-1.txt").unlink()
    r = ingest_paths([a / "doc-0.txt"], settings, progress=False)  # a file, not the folder
    assert r.files_removed == 0 and r.files_unchanged == 1

    r = ingest_paths([a], settings, progress=False)
    assert r.files_removed == 1 and open_store(settings).count() == 3


def test_default_path_is_the_corpus_dir(tmp_path, make_settings):
    settings = make_settings(corpus_dir=tmp_path / "corpus")
    write(tmp_path / "corpus" / "a.txt", prose(2))
    r = ingest_paths(None, settings, progress=False)
    assert r.files_added == 1 and r.chunks_total == 1


def test_renamed_file_with_explicit_doc_id(tmp_path, make_settings):
    root = tmp_path / "docs"
    write(root / "old-name.md", "---\ndoc_id: camps-1950\ntitle: Camps\n---\n" + prose(2))
    settings = make_settings()
    ingest_paths([root], settings, progress=False)
    (root / "old-name.md").rename(root / "new-name.md")
    r = ingest_paths([root], settings, progress=False)
    assert r.files_failed == []
    assert (r.files_added, r.files_removed) == (1, 1)
    assert [cid for cid, _, _ in chunks_of(settings, root / "new-name.md")] == ["camps-1950::00000"]


# --------------------------------------------------------------------------- store bookkeeping


def test_store_records_model_and_chunking(tmp_path, make_settings, embedder):
    root = _corpus(tmp_path / "docs", 1)
    settings = make_settings(chunk_tokens=120, chunk_overlap_tokens=30)
    ingest_paths([root], settings, progress=False)
    meta = open_store(settings).chunks().metadata
    assert meta["embedding_model"] == embedder.fingerprint
    assert int(meta["chunk_tokens"]) == 120
    assert int(meta["chunk_overlap_tokens"]) == 30


def test_changed_chunking_needs_rebuild(tmp_path, make_settings):
    root = _corpus(tmp_path / "docs", 2)
    settings = make_settings()
    ingest_paths([root], settings, progress=False)
    before = snapshot(settings)

    changed = make_settings(chunk_tokens=100)
    with pytest.raises(IngestFatal) as exc:
        ingest_paths([root], changed, progress=False)
    assert isinstance(exc.value.__cause__, StoreMismatch)
    msg = str(exc.value)
    assert "200/40" in msg and "100/40" in msg
    assert "cadres ingest --rebuild" in msg
    assert snapshot(settings) == before, "a refused run must not touch the store"

    with pytest.raises(StoreMismatch):
        open_store(changed).chunks(for_write=True)
    open_store(changed).chunks()  # reading with other chunk settings is fine

    r = ingest_paths([root], changed, rebuild=True, progress=False)
    assert r.files_added == 2 and r.files_unchanged == 0 and r.files_failed == []
    assert int(open_store(changed).chunks().metadata["chunk_tokens"]) == 100
    assert r.chunks_total == open_store(changed).count()
    r = ingest_paths([root], changed, progress=False)
    assert r.files_unchanged == 2 and r.chunks_added == 0


def test_other_embedding_model_is_refused(tmp_path, make_settings):
    root = _corpus(tmp_path / "docs", 1)
    settings = make_settings()
    ingest_paths([root], settings, progress=False)
    with pytest.raises(StoreMismatch, match="--rebuild"):
        Store(settings, "some-other-model:0123").chunks()


def test_rebuild_from_scratch_equals_clean_run(tmp_path, make_settings):
    root = _corpus(tmp_path / "docs", 2)
    settings = make_settings()
    ingest_paths([root], settings, progress=False)
    (root / "doc-0.txt").unlink()
    write(root / "doc-9.txt", prose(2, seed=9))
    r = ingest_paths([root], settings, rebuild=True, progress=False)
    assert (r.files_added, r.files_removed, r.files_unchanged) == (2, 0, 0)
    clean = make_settings(data_dir=tmp_path / "clean")
    ingest_paths([root], clean, progress=False)
    assert snapshot(settings)["chunks"] == snapshot(clean)["chunks"]


def test_lexical_index_follows_the_store(tmp_path, make_settings):
    from rag import lexical

    root = _corpus(tmp_path / "docs", 3)
    settings = make_settings()
    ingest_paths([root], settings, progress=False)
    idx = lexical.load(settings.lexical_dir)
    assert idx is not None
    assert idx.chunk_ids() == set(stored_chunks(settings))
    assert idx.generation == open_store(settings).generation()

    (root / "doc-2.txt").unlink()
    ingest_paths([root], settings, progress=False)
    idx = lexical.load(settings.lexical_dir)
    assert idx.chunk_ids() == set(stored_chunks(settings))
    assert len(idx) == 2
    assert idx.generation == open_store(settings).generation()


def test_sentence_vectors_come_from_the_chunk_pass_and_a_mode_change_redoes_files(tmp_path, make_settings, embedder):
    """Pooled (the default): one forward pass per chunk gives its sentences' vectors too. Switching
    CADRES_SENTENCE_VECTORS re-embeds every file, so a store never mixes the two kinds."""
    root = _corpus(tmp_path / "docs")
    settings = make_settings()
    assert settings.sentence_vectors == "pooled"
    ingest_paths([root], settings, progress=False)
    first = dict(list(sentence_rows(settings).items())[:3])
    pooled = np.vstack([m["vector"] for _, m in first.values()])
    alone = embedder.encode([t for t, _ in first.values()])
    assert np.allclose(np.linalg.norm(pooled, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(pooled, alone, atol=1e-3)  # in context, not the sentence alone
    separate = settings.model_copy(update={"sentence_vectors": "separate"})
    again = ingest_paths([root], separate, progress=False)
    assert again.files_updated == again.files_seen == 3
    again_rows = sentence_rows(separate)
    assert np.allclose(np.vstack([again_rows[i][1]["vector"] for i in first]), alone, atol=1e-5)
