"""A killed ingest reruns to the clean state; concurrent ingests serialise on the data dir's lock."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from filelock import FileLock
from ingest_testlib import SUBPROCESS_ENV, kill_while_writing, prose, settings_at, snapshot, write

from ingest import IngestFatal, ingest_paths

pytestmark = pytest.mark.slow


def _many_files(root: Path, n: int = 30) -> Path:
    for i in range(n):
        # Every tenth file is long enough for two chunks.
        write(root / f"file-{i:02d}.txt", prose(18 if i % 10 == 0 else 2, seed=200 + i))
    return root


def _lexical_ids(settings) -> set[str]:
    from rag import lexical

    idx = lexical.load(settings.lexical_dir)
    return idx.chunk_ids() if idx else set()


def test_killed_ingest_reruns_to_the_clean_state(tmp_path, cadres_cli):
    from rag.store import forget_client

    root = _many_files(tmp_path / "docs")
    killed_dir, clean_dir = tmp_path / "killed", tmp_path / "clean"

    proc = cadres_cli.popen(
        "ingest", "--json", root, env={"CADRES_DATA_DIR": killed_dir, **SUBPROCESS_ENV}
    )
    kill_while_writing(proc, killed_dir / "chroma", 0.4)  # a few files in, the rest still to do

    killed = settings_at(killed_dir)
    clean = settings_at(clean_dir)
    try:
        rerun = ingest_paths([root], killed, progress=False)
        assert rerun.files_failed == []
        assert rerun.files_added >= 1, "the kill should have left work for the rerun"
        assert rerun.files_added + rerun.files_unchanged == 30
        assert rerun.files_updated == 0

        ingest_paths([root], clean, progress=False)
        a, b = snapshot(killed), snapshot(clean)
        assert set(a["chunks"]) == set(b["chunks"])
        assert a["count"] == b["count"] == len(b["chunks"])
        assert a == b
        assert _lexical_ids(killed) == _lexical_ids(clean) == set(b["chunks"])

        again = ingest_paths([root], killed, progress=False)
        assert again.files_unchanged == 30 and again.chunks_added == 0
    finally:
        forget_client(killed)
        forget_client(clean)


def test_two_ingests_at_once_serialise(tmp_path, cadres_cli):
    from rag.store import forget_client

    root = tmp_path / "docs"
    for i in range(5):
        write(root / f"doc-{i}.txt", prose(3, seed=300 + i))
    shared = tmp_path / "shared"
    env = {"CADRES_DATA_DIR": shared, **SUBPROCESS_ENV}
    procs = [cadres_cli.popen("ingest", "--json", root, env=env) for _ in range(2)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        assert "Traceback" not in err
        outs.append(json.loads(out))

    added = sorted(o["files_added"] for o in outs)
    unchanged = sorted(o["files_unchanged"] for o in outs)
    assert added == [0, 5], outs  # one did the work ...
    assert unchanged == [0, 5], outs  # ... the other waited for the lock and found nothing to do
    assert all(o["chunks_total"] == 5 and o["files_failed"] == [] for o in outs)

    together, clean = settings_at(shared), settings_at(tmp_path / "clean")
    try:
        ingest_paths([root], clean, progress=False)
        assert snapshot(together) == snapshot(clean)
    finally:
        forget_client(together)
        forget_client(clean)


def test_lock_timeout_in_process(tmp_path, make_settings):
    root = tmp_path / "docs"
    write(root / "a.txt", prose(2))
    settings = make_settings(ingest_lock_timeout=0.5)
    settings.data_dir.mkdir(parents=True)
    with FileLock(str(settings.data_dir / "ingest.lock")):
        t0 = time.monotonic()
        with pytest.raises(IngestFatal, match="another ingest is running on") as exc:
            ingest_paths([root], settings, progress=False)
        assert time.monotonic() - t0 < 30
    assert str(settings.data_dir) in str(exc.value)
    # Once the lock is free the same settings work.
    assert ingest_paths([root], settings, progress=False).files_added == 1


def test_lock_timeout_cli(tmp_path, cadres_cli):
    root = tmp_path / "docs"
    write(root / "a.txt", prose(2))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with FileLock(str(data_dir / "ingest.lock")):
        t0 = time.monotonic()
        r = cadres_cli.run(
            "ingest",
            root,
            env={
                "CADRES_DATA_DIR": data_dir,
                "CADRES_INGEST_LOCK_TIMEOUT": "0.5",
                **SUBPROCESS_ENV,
            },
        )
        elapsed = time.monotonic() - t0
    assert r.returncode == 1, r.stderr
    assert r.stderr.startswith("cadres: error: another ingest is running on")
    assert str(data_dir) in r.stderr
    assert "Traceback" not in r.stderr
    assert r.stdout == ""
    assert elapsed < 60
    assert not (data_dir / "chroma").exists(), "nothing may be written without the lock"
