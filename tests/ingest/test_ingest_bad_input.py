"""Bad files are listed with a one-line reason, and never stop the good files next to them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ingest_testlib import (
    BAD_FILES,
    GOOD_FILES,
    build_bad_corpus,
    chunks_of,
    prose,
    settings_at,
    stored_chunks,
    write,
)

from ingest import IngestFatal, ingest_paths


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory):
    from rag.store import forget_client

    base = tmp_path_factory.mktemp("bad")
    root = build_bad_corpus(base)
    settings = settings_at(base / "data")
    report = ingest_paths([root], settings, progress=False)
    yield root, settings, report
    forget_client(settings)


def _failures(report) -> dict[str, str]:
    return {Path(f.path).name: f.error for f in report.files_failed}


def test_every_bad_file_is_listed_once(bad_run):
    _, _, report = bad_run
    names = [Path(f.path).name for f in report.files_failed]
    assert sorted(names) == sorted(BAD_FILES)
    assert report.exit_code == 2


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_failure_reason(bad_run, name):
    root, _, report = bad_run
    failures = {Path(f.path).name: f for f in report.files_failed}
    f = failures[name]
    assert Path(f.path) == root / name
    assert re.search(BAD_FILES[name], f.error), f.error
    assert "\n" not in f.error and len(f.error) < 300
    assert "Traceback" not in f.error


def test_good_files_still_go_in(bad_run):
    root, settings, report = bad_run
    assert report.files_added == len(GOOD_FILES)
    for name in GOOD_FILES:
        assert chunks_of(settings, root / name), name
    sources = {m["source"] for _, m in stored_chunks(settings).values()}
    assert sources == {(root / n).resolve().as_posix() for n in GOOD_FILES}
    assert report.chunks_total == report.chunks_added == len(stored_chunks(settings))


def test_files_seen_counts_what_was_read(bad_run):
    _, _, report = bad_run
    # Everything but the symlink, which discovery refuses before reading; sidecars are not documents.
    assert report.files_seen == len(GOOD_FILES) + len(BAD_FILES) - 1


def test_secret_behind_symlink_not_ingested(bad_run):
    _, settings, _ = bad_run
    assert not any("secret" in d.lower() for d, _ in stored_chunks(settings).values())


def test_rerun_reports_the_same_failures_and_adds_nothing(bad_run):
    root, settings, first = bad_run
    again = ingest_paths([root], settings, progress=False)
    assert _failures(again) == _failures(first)
    assert again.files_unchanged == len(GOOD_FILES)
    assert again.chunks_added == again.chunks_removed == 0
    assert again.exit_code == 2


def test_fixed_file_goes_in_on_next_run(tmp_path, make_settings):
    root = tmp_path / "docs"
    write(root / "a.md", "---\ntitle: [unclosed\n---\nBody text.\n")
    write(root / "b.txt", prose(2))
    settings = make_settings()
    r1 = ingest_paths([root], settings, progress=False)
    assert list(_failures(r1)) == ["a.md"] and r1.files_added == 1
    write(root / "a.md", "---\ntitle: Fixed\n---\nBody text.\n")
    r2 = ingest_paths([root], settings, progress=False)
    assert r2.files_failed == [] and r2.files_added == 1 and r2.files_unchanged == 1
    assert chunks_of(settings, root / "a.md")[0][2]["title"] == "Fixed"


def test_size_cap(tmp_path, make_settings):
    root = tmp_path / "docs"
    write(root / "small.txt", "A small file. It fits.")
    write(root / "big.txt", prose(60))
    assert (
        (root / "big.txt").stat().st_size
        > 0.001 * 1024 * 1024
        > (root / "small.txt").stat().st_size
    )
    settings = make_settings(max_file_mb=0.001)
    r = ingest_paths([root], settings, progress=False)
    assert r.files_added == 1
    assert list(_failures(r)) == ["big.txt"]
    assert re.match(r"^big\.txt: over the size cap \(.* MB > 0\.001 MB\)$", r.files_failed[0].error)
    assert not chunks_of(settings, root / "big.txt")


def test_missing_path_is_a_failure_not_fatal(tmp_path, make_settings):
    root = tmp_path / "docs"
    write(root / "a.txt", prose(2))
    r = ingest_paths([root, tmp_path / "nope"], make_settings(), progress=False)
    assert r.files_added == 1
    assert [(f.path, f.error) for f in r.files_failed] == [
        (str(tmp_path / "nope"), "no such file or folder")
    ]


def test_unwritable_data_dir_is_fatal(tmp_path, make_settings):
    blocker = write(tmp_path / "not-a-dir", "I am a regular file.")
    data_dir = blocker / "data"
    root = tmp_path / "docs"
    write(root / "a.txt", prose(2))
    with pytest.raises(IngestFatal) as exc:
        ingest_paths([root], make_settings(data_dir=data_dir), progress=False)
    msg = str(exc.value)
    assert str(data_dir) in msg
    assert "not writable" in msg
    assert "\n" not in msg
