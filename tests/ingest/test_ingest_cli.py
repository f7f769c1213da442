"""`cadres settings` and `cadres ingest` as a user runs them: exit codes, JSON, messages."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from ingest_testlib import (
    BAD_FILES,
    GOOD_FILES,
    SUBPROCESS_ENV,
    build_bad_corpus,
    open_store,
    prose,
    settings_at,
    write,
)

REPORT_KEYS = {
    "files_seen",
    "files_added",
    "files_updated",
    "files_unchanged",
    "files_removed",
    "files_failed",
    "warnings",
    "chunks_added",
    "chunks_removed",
    "chunks_total",
    "seconds",
}


# --------------------------------------------------------------------------- settings


def test_settings_prints_effective_settings_as_json(cadres_cli, tmp_path):
    r = cadres_cli.run("settings", env={"CADRES_DATA_DIR": tmp_path / "d"})
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["data_dir"] == str(tmp_path / "d")
    assert s["chroma_mode"] == "embedded"
    assert s["chroma_path"] == str(tmp_path / "d" / "chroma")
    assert s["chroma_url"] is None
    assert s["chunk_tokens"] == 200 and s["chunk_overlap_tokens"] == 40
    assert s["api_key"] is None
    assert s["embedding_model"]  # resolved to the bundled model, never empty


def test_settings_honours_env_vars(cadres_cli, tmp_path):
    env = {
        "CADRES_DATA_DIR": tmp_path / "d",
        "CADRES_CHUNK_TOKENS": "123",
        "CADRES_CHUNK_OVERLAP_TOKENS": "7",
        "CADRES_CHROMA_URL": "http://127.0.0.1:9/",
        "CADRES_COLLECTION": "other",
        "CADRES_MAX_FILE_MB": "2.5",
        "CADRES_API_KEY": "very-secret-key",
    }
    r = cadres_cli.run("settings", env=env)
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert (s["chunk_tokens"], s["chunk_overlap_tokens"]) == (123, 7)
    assert s["chroma_url"] == "http://127.0.0.1:9"
    assert s["chroma_mode"] == "server" and s["chroma_path"] is None
    assert s["collection"] == "other"
    assert s["max_file_mb"] == 2.5
    assert s["api_key"] == "***"
    assert "very-secret-key" not in r.stdout + r.stderr


def test_python_dash_m_rag_is_the_same_cli(cadres_cli, tmp_path):
    env = {"CADRES_DATA_DIR": tmp_path / "d", "CADRES_TOP_K": "7"}
    a = cadres_cli.run("settings", env=env)
    b = type(cadres_cli)([sys.executable, "-m", "rag"]).run("settings", env=env)
    assert a.returncode == b.returncode == 0, b.stderr
    assert json.loads(a.stdout) == json.loads(b.stdout)
    assert json.loads(b.stdout)["top_k"] == 7


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CADRES_CHUNK_TOKENS": "abc"}, r"^cadres: error: CADRES_CHUNK_TOKENS: "),
        ({"CADRES_CHUNK_TOKENS": "5"}, r"^cadres: error: CADRES_CHUNK_TOKENS: "),
        (
            {"CADRES_CHROMA_URL": "localhost:8000"},
            r"^cadres: error: CADRES_CHROMA_URL: .*http://host:port",
        ),
        (
            {"CADRES_CHUNK_TOKENS": "50", "CADRES_CHUNK_OVERLAP_TOKENS": "60"},
            r"CADRES_CHUNK_OVERLAP_TOKENS must be smaller than CADRES_CHUNK_TOKENS",
        ),
    ],
    ids=["not-a-number", "below-minimum", "bad-url", "overlap-over-size"],
)
def test_invalid_settings_exit_1_without_traceback(cadres_cli, tmp_path, env, message):
    for args in (["settings"], ["ingest", tmp_path]):
        r = cadres_cli.run(*args, env=env)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert re.search(message, r.stderr), r.stderr
        assert "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------- ingest


@pytest.fixture(scope="module")
def cli_bad_run(tmp_path_factory, cadres_cli):
    """`cadres ingest --json --rebuild` on a folder with good and bad files, as a real subprocess.

    The data dir is first filled in-process with other chunk settings (100/20), so the one CLI run
    (one model load) also shows that --rebuild drops a store the settings no longer match.
    """
    from ingest import ingest_paths
    from rag.store import forget_client

    base = tmp_path_factory.mktemp("cli-bad")
    root = build_bad_corpus(base)
    data_dir = base / "data"
    old = settings_at(data_dir, chunk_tokens=100, chunk_overlap_tokens=20)
    assert ingest_paths([root], old, progress=False).files_added == len(GOOD_FILES)
    forget_client(old)
    proc = cadres_cli.run(
        "ingest", "--json", "--rebuild", root, env={"CADRES_DATA_DIR": data_dir, **SUBPROCESS_ENV}
    )
    return root, data_dir, proc


def test_ingest_json_report_keys_and_exit_2(cli_bad_run):
    _, _, proc = cli_bad_run
    assert proc.returncode == 2, proc.stderr
    report = json.loads(proc.stdout)
    assert set(report) == REPORT_KEYS
    assert report["chunks_total"] == report["chunks_added"] > 0
    assert isinstance(report["seconds"], float)
    assert "Traceback" not in proc.stderr


def test_ingest_json_lists_each_failure(cli_bad_run):
    root, _, proc = cli_bad_run
    failed = {Path(f["path"]).name: f for f in json.loads(proc.stdout)["files_failed"]}
    assert set(failed) == set(BAD_FILES)
    for name, f in failed.items():
        assert set(f) == {"path", "error"}
        assert Path(f["path"]) == root / name
        assert re.search(BAD_FILES[name], f["error"]), f["error"]
        assert "\n" not in f["error"]


def test_ingest_rebuild_flag(cli_bad_run):
    from rag.store import forget_client

    _, data_dir, proc = cli_bad_run
    report = json.loads(proc.stdout)
    # Everything re-added: the old store (chunked 100/20) was dropped, not reused or refused.
    assert report["files_added"] == len(GOOD_FILES)
    assert report["files_unchanged"] == report["files_updated"] == 0
    settings = settings_at(data_dir)
    try:
        meta = open_store(settings).chunks().metadata
        assert (int(meta["chunk_tokens"]), int(meta["chunk_overlap_tokens"])) == (200, 40)
        assert open_store(settings).count() == report["chunks_total"]
    finally:
        forget_client(settings)


def test_ingest_changed_chunking_exit_1_with_rebuild_hint(cli_bad_run, cadres_cli):
    root, data_dir, _ = cli_bad_run
    env = {"CADRES_DATA_DIR": data_dir, "CADRES_CHUNK_TOKENS": "100", **SUBPROCESS_ENV}
    r = cadres_cli.run("ingest", root, env=env)
    assert r.returncode == 1
    assert r.stderr.startswith("cadres: error: the index in ")
    assert "cadres ingest --rebuild" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


@pytest.fixture
def ingested_small(tmp_path):
    """A folder with one good and one empty file, already ingested in-process (model loaded once).

    A CLI rerun finds the good file unchanged and the empty one refused before any chunking, so
    the subprocess never loads the model: these CLI runs are quick.
    """
    from ingest import ingest_paths
    from rag.store import forget_client

    root = tmp_path / "docs"
    write(root / "a.txt", prose(2))
    write(root / "empty.txt", "")
    settings = settings_at(tmp_path / "data")
    assert ingest_paths([root], settings, progress=False).files_added == 1
    forget_client(settings)
    return root, {"CADRES_DATA_DIR": tmp_path / "data", **SUBPROCESS_ENV}


def test_ingest_human_output(ingested_small, cadres_cli):
    root, env = ingested_small
    r = cadres_cli.run("ingest", root, env=env)
    assert r.returncode == 2
    assert re.fullmatch(
        r"ingested 2 file\(s\): 0 added, 0 updated, 1 unchanged, 0 removed, 1 failed; "
        r"chunks \+0 -0 = 1 in [\d.]+ s",
        r.stdout.strip(),
    ), r.stdout
    assert r.stderr.splitlines() == [
        f"  failed: {root / 'empty.txt'}: empty.txt: empty file (no text after cleaning)"
    ]


def test_ingest_exit_0_when_all_in(ingested_small, cadres_cli):
    root, env = ingested_small
    (root / "empty.txt").unlink()
    r = cadres_cli.run("ingest", "--json", root, env=env)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert set(report) == REPORT_KEYS
    assert (report["files_unchanged"], report["files_failed"], report["chunks_total"]) == (1, [], 1)


def test_ingest_missing_path_exit_2(ingested_small, cadres_cli, tmp_path):
    root, env = ingested_small
    r = cadres_cli.run("ingest", "--json", root / "a.txt", tmp_path / "missing.txt", env=env)
    assert r.returncode == 2
    assert json.loads(r.stdout)["files_failed"] == [
        {"path": str(tmp_path / "missing.txt"), "error": "no such file or folder"}
    ]


def test_ingest_unwritable_data_dir_exit_1(cadres_cli, tmp_path):
    blocker = write(tmp_path / "plain-file", "not a directory")
    data_dir = blocker / "data"
    write(tmp_path / "docs" / "a.txt", prose(2))
    r = cadres_cli.run(
        "ingest", "--json", tmp_path / "docs", env={"CADRES_DATA_DIR": data_dir, **SUBPROCESS_ENV}
    )
    assert r.returncode == 1
    assert r.stderr.startswith("cadres: error: ")
    assert str(data_dir) in r.stderr
    assert "not writable" in r.stderr
    assert "Traceback" not in r.stderr
    assert r.stdout == ""
