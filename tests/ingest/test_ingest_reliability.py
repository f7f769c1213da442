"""Reruns end like clean runs; unreadable folders keep their documents; failed files leave nothing stale;
renames are not kept twice; one huge unbroken line cannot stall a run."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import pytest
from ingest_testlib import (
    SUBPROCESS_ENV,
    kill_while_writing,
    open_store,
    prose,
    sentence_rows,
    settings_at,
    snapshot,
    stored_chunks,
    write,
)

from ingest import ingest_paths
from ingest.pipeline import _mark_writing, _prepare

pytestmark = pytest.mark.slow


def _sources(settings) -> set[str]:
    return {m["source"] for _, m in stored_chunks(settings).values()}


def _sentence_sources(settings) -> set[str]:
    return {m["source"] for _, m in sentence_rows(settings).values()}


def test_chunks_without_a_manifest_entry_are_swept(tmp_path, make_settings, embedder):
    """The old kill point: a file's chunks written, its manifest entry not, the file deleted."""
    docs = tmp_path / "docs"
    write(docs / "keep.txt", prose(6, seed=1))
    gone = write(docs / "gone.txt", prose(30, seed=2, tag=" at the harbour"))
    settings = make_settings()
    ingest_paths([docs], settings, progress=False)
    store = open_store(settings)
    key = gone.resolve().as_posix()
    store.files().delete(ids=[key])  # as if the run died before the entry was written
    gone.unlink()
    assert key in _sources(settings)

    report = ingest_paths([docs], settings, progress=False)

    assert key not in _sources(settings) and key not in _sentence_sources(settings)
    assert report.chunks_removed > 0
    assert any(w.path == key and "interrupted" in w.warning for w in report.warnings)
    clean = make_settings(data_dir=tmp_path / "clean")
    ingest_paths([docs], clean, progress=False)
    assert snapshot(settings)["chunks"].keys() == snapshot(clean)["chunks"].keys()
    assert open_store(settings).count() == open_store(clean).count()


def test_partial_write_recorded_as_intent_is_undone(tmp_path, make_settings, embedder):
    """A kill between the intent record and the final manifest entry: the partial chunks go."""
    docs = tmp_path / "docs"
    write(docs / "keep.txt", prose(6, seed=3))
    settings = make_settings()
    ingest_paths([docs], settings, progress=False)
    half = write(tmp_path / "elsewhere" / "half.txt", prose(40, seed=4))
    store = open_store(settings)
    p = _prepare(half, half.resolve().as_posix(), settings, embedder, "digest")
    _mark_writing(store, p)
    c = p.chunks[0]
    store.chunks().upsert(
        ids=[c.chunk_id], embeddings=[[0.1] * embedder.dim], documents=[c.text], metadatas=[{"source": p.key, "doc_id": "half"}]
    )
    half.unlink()

    report = ingest_paths([docs], settings, progress=False)

    assert p.key not in _sources(settings)
    assert p.key not in store.manifest()
    assert any(w.path == p.key and "stopped while writing" in w.warning for w in report.warnings)
    assert report.files_unchanged == 1 and report.files_failed == []


@pytest.mark.parametrize("delay", [0.2, 0.9])
def test_killed_run_then_files_deleted_ends_like_a_clean_run(tmp_path, cadres_cli, delay):
    """A real SIGKILL mid-run, then half the files deleted: the rerun equals a clean run of what is left."""
    from rag.store import forget_client

    root = tmp_path / "docs"
    for i in range(24):
        write(root / f"f-{i:02d}.txt", prose(16 if i % 3 == 0 else 3, seed=500 + i))
    killed_dir = tmp_path / "killed"
    proc = cadres_cli.popen("ingest", "--json", root, env={"CADRES_DATA_DIR": killed_dir, **SUBPROCESS_ENV})
    kill_while_writing(proc, killed_dir / "chroma", delay)
    for i in range(0, 24, 2):
        (root / f"f-{i:02d}.txt").unlink()
    killed, clean = settings_at(killed_dir), settings_at(tmp_path / "clean")
    try:
        rerun = ingest_paths([root], killed, progress=False)
        assert rerun.files_failed == []
        ingest_paths([root], clean, progress=False)
        a, b = snapshot(killed), snapshot(clean)
        assert a["chunks"].keys() == b["chunks"].keys()
        assert a["sentences"].keys() == b["sentences"].keys()
        assert a["files"] == b["files"]
        assert a["count"] == b["count"]
    finally:
        forget_client(killed)
        forget_client(clean)


def test_unreadable_subfolder_is_a_failure_and_keeps_its_documents(tmp_path, make_settings, embedder, monkeypatch):
    docs = tmp_path / "docs"
    write(docs / "top.txt", prose(5, seed=6))
    inner = write(docs / "locked" / "inner.txt", prose(5, seed=7))
    settings = make_settings()
    ingest_paths([docs], settings, progress=False)
    before = {k for k, _ in stored_chunks(settings).items() if k.startswith("inner")}
    assert before

    # Tests run as root, where chmod cannot lock a folder: make listing it fail as it would for a user.
    real_scandir = os.scandir
    locked = (docs / "locked").as_posix()

    def scandir(path="."):
        if os.fspath(path).rstrip("/") == locked:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    report = ingest_paths([docs], settings, progress=False)

    assert report.files_removed == 0
    failed = {f.path: f.error for f in report.files_failed}
    assert any("locked" in p and "unreadable folder" in e and "kept" in e for p, e in failed.items()), failed
    assert inner.resolve().as_posix() in _sources(settings)
    assert {k for k in stored_chunks(settings) if k.startswith("inner")} == before


@pytest.mark.parametrize(
    ("name", "spoil", "reason"),
    [
        ("emptied.txt", b"", "empty file"),
        ("made-binary.txt", bytes(range(256)) * 40, "binary"),
        ("truncated.pdf", None, "corrupt PDF"),
    ],
)
def test_a_file_that_fails_after_ingest_leaves_nothing_stale(tmp_path, make_settings, embedder, name, spoil, reason):
    from ingest_testlib import make_pdf

    from rag.assistant import Assistant

    docs = tmp_path / "docs"
    fact = "The observers counted 4412 birds on the northern marsh in 1951."
    data = make_pdf([[fact, prose(4, seed=8)]]) if name.endswith(".pdf") else f"{fact} {prose(4, seed=8)}".encode()
    f = write(docs / name, data)
    write(docs / "other.txt", prose(5, seed=9))
    settings = make_settings()
    ingest_paths([docs], settings, progress=False)
    assert f.resolve().as_posix() in _sources(settings)

    f.write_bytes(spoil if spoil is not None else data[: len(data) // 3])
    report = ingest_paths([docs], settings, progress=False)

    (failure,) = report.files_failed
    assert failure.path == str(f) and reason in failure.error
    assert "earlier version was removed" in failure.error
    assert f.resolve().as_posix() not in _sources(settings)
    assert f.resolve().as_posix() not in open_store(settings).manifest()
    ans = Assistant(settings).ask("How many birds did the observers count on the northern marsh?")
    assert "4412" not in ans.answer
    assert all(c.doc_id != f.stem for c in ans.citations)


def test_plain_file_renamed_and_ingested_by_path_is_kept_once(tmp_path, make_settings, embedder):
    settings = make_settings()
    a = write(tmp_path / "notes" / "a.txt", prose(6, seed=10))
    ingest_paths([a], settings, progress=False)
    b = a.with_name("b.txt")
    a.rename(b)

    report = ingest_paths([b], settings, progress=False)

    assert report.files_added == 1 and report.files_removed == 1
    assert _sources(settings) == {b.resolve().as_posix()}
    assert list(open_store(settings).manifest()) == [b.resolve().as_posix()]


def test_renamed_file_keeps_its_front_matter_doc_id(tmp_path, make_settings, embedder):
    settings = make_settings()
    a = write(tmp_path / "notes" / "a.md", f"---\ndoc_id: beacon-note\ntitle: Beacon\n---\n{prose(6, seed=11)}")
    ingest_paths([a], settings, progress=False)
    b = a.with_name("b.md")
    b.write_text(a.read_text() + "\n\nA new closing sentence was added after the rename.")
    a.unlink()

    report = ingest_paths([b], settings, progress=False)

    assert report.files_failed == [], report.files_failed
    assert _sources(settings) == {b.resolve().as_posix()}
    docs = open_store(settings).documents()
    assert [d["doc_id"] for d in docs] == ["beacon-note"]


def test_doc_id_of_an_existing_file_still_blocks_a_second_user(tmp_path, make_settings, embedder):
    settings = make_settings()
    a = write(tmp_path / "notes" / "a.md", f"---\ndoc_id: beacon-note\n---\n{prose(4, seed=12)}")
    ingest_paths([a], settings, progress=False)
    b = write(tmp_path / "notes" / "b.md", f"---\ndoc_id: beacon-note\n---\n{prose(4, seed=13)}")

    report = ingest_paths([b], settings, progress=False)

    (failure,) = report.files_failed
    assert "already used by" in failure.error and "a.md" in failure.error


def test_huge_unbroken_lines_fail_fast_and_do_not_hold_up_other_files(tmp_path, make_settings, embedder):
    docs = tmp_path / "docs"
    size = 10 * 2**20
    write(docs / "a-base64.txt", base64.b64encode(os.urandom(size * 3 // 4)))
    write(docs / "b-letters.txt", b"a" * size)
    write(docs / "e-mime.txt", base64.encodebytes(os.urandom(size // 2)))  # base64 in 76-character lines
    blob = base64.b64encode(os.urandom(3000)).decode()
    write(docs / "c-mixed.txt", f"{prose(5, seed=14)}\n\n{blob}\n\nThe harbour master logged 77 ships in 1952.")
    write(docs / "d-good.txt", prose(5, seed=15))
    settings = make_settings()
    embedder.encode(["warm up"])

    t0 = time.perf_counter()
    report = ingest_paths([docs], settings, progress=False)
    took = time.perf_counter() - t0

    failed = {Path(f.path).name: f.error for f in report.files_failed}
    assert set(failed) == {"a-base64.txt", "b-letters.txt", "e-mime.txt"}
    assert all("no prose" in e and "unbroken run" in e for e in failed.values()), failed
    assert report.files_added == 2
    assert any("c-mixed.txt" in w.warning and "left out 1 unbroken run" in w.warning for w in report.warnings)
    texts = [t for t, _ in stored_chunks(settings).values()]
    assert all(blob[:200] not in t for t in texts)
    assert any("77 ships" in t for t in texts)
    assert took < 60, f"27 MB of unbroken text held the run up for {took:.0f} s"


def test_chunks_are_bounded_in_characters(tmp_path, make_settings, embedder):
    docs = tmp_path / "docs"
    write(docs / "dense.txt", prose(80, seed=16))
    settings = make_settings(max_chunk_chars=500, chunk_tokens=256, chunk_overlap_tokens=20)
    ingest_paths([docs], settings, progress=False)
    lengths = [len(t) for t, _ in stored_chunks(settings).values()]
    assert len(lengths) > 5
    assert max(lengths) <= 500


def test_progress_bar_counts_bytes_files_and_chunks(tmp_path, make_settings, embedder, capsys):
    docs = tmp_path / "docs"
    for i in range(3):
        write(docs / f"p-{i}.txt", prose(12, seed=40 + i))
    settings = make_settings()
    ingest_paths([docs], settings, progress=True)
    err = capsys.readouterr().err
    assert "ingest" in err and "files=3/3" in err and "chunks=" in err, err
    assert "B/s" in err or "s/B" in err or "<" in err, err  # a rate and a remaining time
    write(docs / "p-3.txt", prose(12, seed=43))
    report = ingest_paths([docs], settings, progress=True)  # three unchanged, one new
    assert report.files_unchanged == 3 and report.files_added == 1
    assert "files=4/4" in capsys.readouterr().err
