"""ingest.uploads: the one upload policy of the chat page and the HTTP API (types, safe names,
size cap, what a second upload under a name does, sidecars)."""

from __future__ import annotations

import io
import os

import pytest

from ingest.uploads import (
    MAX_NAME_CHARS,
    UploadRejected,
    check_upload,
    document_types,
    ingest_stored,
    kind_of,
    safe_filename,
    store_upload,
)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("notes.md", "notes.md"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("/abs/path/Report.PDF", "Report.pdf"),
        (".hidden", "hidden"),
        ("...md", "md"),
        ("..", "upload"),
        ("", "upload"),
        (None, "upload"),
        ("my notes (final) v2.txt", "my_notes_final_v2.txt"),
        ("../../harbin trams?.md", "harbin_trams.md"),
        ("Übersicht über Japan.md", "Ubersicht_uber_Japan.md"),
        ("日本人抑留者.txt", "upload.txt"),
        ("a\x00b;rm -rf $HOME.html", "a_b_rm_-rf_HOME.html"),
        ("My Paper.PDF.META.yaml", "My_Paper.pdf.meta.yaml"),  # a sidecar keeps matching its document
    ],
)
def test_safe_filename(name, expected):
    out = safe_filename(name)
    assert out == expected
    assert not out.startswith(".") and "/" not in out and "\\" not in out
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in out)


def test_safe_filename_is_bounded_and_keeps_its_extension():
    doc = safe_filename("x" * 500 + ".md")
    assert doc.endswith(".md") and len(doc) == MAX_NAME_CHARS
    assert safe_filename("x" * 500 + ".md.meta.yaml") == doc + ".meta.yaml"


def test_types_are_the_loaders_own():
    from ingest.loaders import SUPPORTED

    assert set(document_types()) == SUPPORTED and ".markdown" in document_types()
    assert kind_of("a.MARKDOWN") == "document" and kind_of("a.md.meta.yaml") == "sidecar"
    assert kind_of(".meta.yaml") is None and kind_of("a.yaml") is None


@pytest.mark.parametrize("ext", sorted(__import__("ingest.loaders", fromlist=["SUPPORTED"]).SUPPORTED))
def test_accepted_types_pass(ext):
    assert check_upload(f"doc{ext.upper()}", 10, 50) == "document"


@pytest.mark.parametrize(
    "name, size, why",
    [
        ("evil.exe", 10, "unsupported file type '.exe'; accepted: "),
        ("notes.md.exe", 10, "unsupported file type"),
        ("archive.tar.gz", 10, "unsupported file type"),
        ("noextension", 10, r"unsupported file type '\(none\)'"),
        ("empty.txt", 0, "empty.txt: the file is empty"),
        ("big.pdf", 2 * 1024 * 1024 + 1, r"big.pdf: 2.1 MB is over the 2 MB limit \(CADRES_MAX_FILE_MB\)"),
    ],
)
def test_rejected_uploads_name_the_file_and_the_reason(name, size, why):
    with pytest.raises(UploadRejected, match=why):
        check_upload(name, size, 2)


def test_exactly_at_the_cap_is_allowed_and_a_stream_over_it_is_not(tmp_path):
    check_upload("big.pdf", 2 * 1024 * 1024, 2)
    with pytest.raises(UploadRejected, match="over the 0.001 MB limit"):
        store_upload("big.md", io.BytesIO(b"word " * 400), tmp_path / "up", 0.001)
    assert list((tmp_path / "up").iterdir()) == []  # nothing half-written is left


def test_store_never_leaves_the_uploads_dir_and_a_second_version_replaces_the_first(tmp_path):
    up = tmp_path / "data" / "uploads"
    first = store_upload("../../escape.md", b"one", up, 1)
    assert first.status == "new" and first.path == (up / "escape.md").resolve()
    assert not (tmp_path / "escape.md").exists()
    same = store_upload("escape.md", io.BytesIO(b"one"), up, 1)
    assert same.status == "unchanged" and same.path == first.path
    second = store_upload("escape.md", b"two", up, 1)
    assert second.status == "replaced" and first.path.read_bytes() == b"two"
    assert second.rollback() and first.path.read_bytes() == b"one"  # a failed ingest gets the old one back
    third = store_upload("escape.md", b"three", up, 1)
    third.commit()
    assert first.path.read_bytes() == b"three" and sorted(p.name for p in up.iterdir()) == ["escape.md"]


def test_a_new_upload_that_fails_is_removed(tmp_path):
    s = store_upload("new.txt", b"text", tmp_path, 1)
    assert not s.rollback() and not s.path.exists()


def test_store_does_not_write_through_symlinks(tmp_path):
    up = tmp_path / "uploads"
    up.mkdir()
    outside = tmp_path / "outside.md"
    outside.write_bytes(b"original")
    os.symlink(outside, up / "link.md")
    with pytest.raises(UploadRejected, match="link.md: unsafe file name"):
        store_upload("link.md", b"new content", up, 1)
    assert outside.read_bytes() == b"original"


def _recording_ingest(calls, fail=()):
    from rag.models import FileFailure, IngestReport

    def ingest(paths, settings, progress=False):
        calls.append(sorted(p.name for p in paths))
        bad = [p for p in paths if p.read_bytes() in fail]
        return IngestReport(
            files_seen=len(paths),
            files_added=len(paths) - len(bad),
            files_failed=[FileFailure(path=str(p), error=f"{p.name}: unreadable") for p in bad],
        )

    return ingest


def test_ingest_stored_rereads_a_document_for_its_sidecar(tmp_path):
    """Both front ends: a sidecar uploaded alone re-reads its document when that is stored."""
    calls = []
    doc = store_upload("kestrel.md", b"# Kestrel\n\nText.", tmp_path, 1)
    assert ingest_stored([doc], None, _recording_ingest(calls)).files_added == 1
    side = store_upload("kestrel.md.meta.yaml", b"title: Kestrels\n", tmp_path, 1)
    ingest_stored([side], None, _recording_ingest(calls))
    lone = store_upload("owl.md.meta.yaml", b"title: Owls\n", tmp_path, 1)
    assert ingest_stored([lone], None, _recording_ingest(calls)).files_seen == 0
    assert calls == [["kestrel.md"], ["kestrel.md"]]


def test_ingest_stored_puts_a_failed_replacement_back(tmp_path):
    calls = []
    ingest_stored([store_upload("a.md", b"good one", tmp_path, 1)], None, _recording_ingest(calls))
    new = store_upload("a.md", b"bad one", tmp_path, 1)
    other = store_upload("b.md", b"fine", tmp_path, 1)
    report = ingest_stored([new, other], None, _recording_ingest(calls, fail={b"bad one"}))
    assert report.files_failed[0].error == "a.md: unreadable; the earlier version is kept"
    assert (tmp_path / "a.md").read_bytes() == b"good one" and (tmp_path / "b.md").is_file()
    assert calls[-1] == ["a.md"]  # the earlier version read again
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md", "b.md"]  # nothing kept aside


def test_ingest_stored_restores_the_files_when_the_ingest_raises(tmp_path):
    ingest_stored([store_upload("a.md", b"v1", tmp_path, 1)], None, _recording_ingest([]))
    new, fresh = store_upload("a.md", b"v2", tmp_path, 1), store_upload("c.md", b"new", tmp_path, 1)

    def locked(paths, settings, progress=False):
        raise RuntimeError("the store is locked")

    with pytest.raises(RuntimeError):
        ingest_stored([new, fresh], None, locked)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md"]
    assert (tmp_path / "a.md").read_bytes() == b"v1"
