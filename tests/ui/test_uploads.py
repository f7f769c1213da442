"""ui.uploads: safe names, server-side type/size checks, storing and ingesting uploaded files."""

from __future__ import annotations

import os

import pytest

from ui.uploads import (
    ALLOWED_EXTENSIONS,
    UploadRejected,
    check_upload,
    ingest_uploads,
    safe_filename,
    save_upload,
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
        ("Übersicht über Japan.md", "Ubersicht_uber_Japan.md"),
        ("日本人抑留者.txt", "upload.txt"),
        ("a\x00b;rm -rf $HOME.html", "a_b_rm_-rf_HOME.html"),
    ],
)
def test_safe_filename(name, expected):
    out = safe_filename(name)
    assert out == expected
    assert not out.startswith(".") and "/" not in out and "\\" not in out
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in out)


def test_safe_filename_is_bounded():
    out = safe_filename("x" * 500 + ".md")
    assert out.endswith(".md") and len(out) <= 100


@pytest.mark.parametrize("ext", ALLOWED_EXTENSIONS)
def test_allowed_types_pass(ext):
    check_upload(f"doc{ext.upper()}", 10, 50)


@pytest.mark.parametrize(
    "name, size, why",
    [
        ("evil.exe", 10, "unsupported file type"),
        ("notes.md.exe", 10, "unsupported file type"),
        ("archive.tar.gz", 10, "unsupported file type"),
        ("noextension", 10, "unsupported file type"),
        ("x.meta.yaml", 10, "unsupported file type"),
        ("empty.txt", 0, "empty"),
        ("big.pdf", 2 * 1024 * 1024 + 1, "over the 2 MB limit"),
    ],
)
def test_rejected_uploads(name, size, why):
    with pytest.raises(UploadRejected, match=why):
        check_upload(name, size, 2)


def test_exactly_at_the_cap_is_allowed():
    check_upload("big.pdf", 2 * 1024 * 1024, 2)


def test_save_never_leaves_the_uploads_dir_and_never_overwrites(tmp_path):
    up = tmp_path / "data" / "uploads"
    p1, new1 = save_upload("../../escape.md", b"one", up)
    assert new1 and p1 == (up / "escape.md").resolve()
    assert not (tmp_path / "escape.md").exists()
    same, new_same = save_upload("escape.md", b"one", up)  # identical bytes: reused
    assert same == p1 and not new_same
    p2, new2 = save_upload("escape.md", b"two", up)  # different bytes: a new name
    assert new2 and p2.name == "escape-2.md" and p1.read_bytes() == b"one"


def test_save_does_not_follow_symlinks(tmp_path):
    up = tmp_path / "uploads"
    up.mkdir()
    outside = tmp_path / "outside.md"
    outside.write_bytes(b"original")
    os.symlink(outside, up / "link.md")
    p, _ = save_upload("link.md", b"new content", up)
    assert outside.read_bytes() == b"original"
    assert p.parent == up.resolve() and p.name != "link.md"


def fake_ingest_factory(calls):
    from rag.models import FileFailure, IngestReport

    def fake(paths, settings, progress=False):
        calls.append([str(p) for p in paths])
        if "bad" in paths[0].name:
            return IngestReport(files_seen=1, files_failed=[FileFailure(path=str(paths[0]), error=f"{paths[0]}: broken")])
        return IngestReport(files_seen=1, files_added=1, chunks_added=3)

    return fake


def test_ingest_uploads_checks_each_file_and_ingests_only_its_path(make_settings):
    settings = make_settings(max_file_mb=1)
    calls, seen = [], []
    summary = ingest_uploads(
        [
            ("good.md", b"# Title\n\nSome text."),
            ("bad.txt", b"x"),
            ("evil.exe", b"MZ"),
            ("empty.txt", b""),
            ("huge.txt", b"x" * (1024 * 1024 + 1)),
        ],
        settings,
        progress=lambda done, total, name: seen.append((done, total)),
        ingest=fake_ingest_factory(calls),
    )
    assert [r.ok for r in summary.results] == [True, False, False, False, False]
    assert "added (3 chunks)" in summary.results[0].message
    # Each stored file is ingested by its own path, never the uploads folder (which would prune).
    assert calls == [[str(settings.uploads_dir.resolve() / "good.md")], [str(settings.uploads_dir.resolve() / "bad.txt")]]
    # The failed file is not left behind; its error names the file, not the server's folders.
    assert sorted(p.name for p in settings.uploads_dir.iterdir()) == ["good.md"]
    assert summary.results[1].message == "bad.txt: broken"
    assert "unsupported" in summary.results[2].message and "empty" in summary.results[3].message
    assert "over the 1 MB limit" in summary.results[4].message
    assert seen[0] == (0, 5) and seen[-1] == (5, 5)


def test_upload_adds_a_document_without_removing_others(make_settings, tmp_path):
    """Real ingest into a temp store: an upload adds its document and keeps the rest."""
    from ingest import ingest_paths
    from rag import Assistant

    settings = make_settings()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "first-notes.md").write_text(
        "---\ntitle: First notes\nyear: 2020\n---\nThe Huludao repatriation began in May 1946 from Manchuria.\n",
        encoding="utf-8",
    )
    assert ingest_paths([corpus], settings, progress=False).files_added == 1
    qa = Assistant(settings)
    assert {d["doc_id"] for d in qa.documents()} == {"first-notes"}

    upload = (
        "---\ntitle: Uploaded Xylophone notes\nauthors: [Quux Zedlander]\nyear: 2024\n---\n"
        "The Xylophone committee met in Harbin in 1950 to plan the return of Japanese technicians.\n"
    )
    summary = ingest_uploads([("../Xylophone notes.md", upload.encode())], settings)
    assert [r.ok for r in summary.results] == [True], summary.results
    assert {d["doc_id"] for d in qa.documents()} == {"first-notes", "xylophone-notes"}
    # The same Assistant sees the new document at once (its lexical index follows the store generation).
    ans = qa.ask("When did the Xylophone committee meet in Harbin?")
    assert not ans.refused and ans.citations[0].doc_id == "xylophone-notes"
    # Uploading the same file again changes nothing; a doc_id clash is a per-file error.
    again = ingest_uploads([("Xylophone notes.md", upload.encode())], settings)
    assert again.results[0].ok and "unchanged" in again.results[0].message
    clash = ingest_uploads([("First-notes.md", b"---\ndoc_id: first-notes\n---\nOther text here.\n")], settings)
    assert not clash.results[0].ok and "already used" in clash.results[0].message
    assert {d["doc_id"] for d in qa.documents()} == {"first-notes", "xylophone-notes"}
