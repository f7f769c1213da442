"""ui.uploads: the chat page stores uploads by the one policy (ingest.uploads) and ingests them one by one."""

from __future__ import annotations

from ui.uploads import accepted_types, ingest_uploads


def test_the_picker_offers_the_policy_types():
    assert {"md", "markdown", "pdf", "txt", "html", "htm", "yaml"} <= set(accepted_types())


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


def test_a_bad_new_version_keeps_the_earlier_one(make_settings):
    """Real ingest: an upload under a stored name that cannot be ingested puts the earlier file
    back and the earlier text stays answerable; a good one replaces it."""
    from rag import Assistant

    settings = make_settings()
    good = "---\ntitle: Kestrel notes\n---\nThe Kestrel survey counted 4412 birds on the Amur in 1952.\n"
    assert ingest_uploads([("kestrel.md", good.encode())], settings).results[0].ok
    bad = ingest_uploads([("kestrel.md", b"\x00\x01\x02" * 400)], settings).results[0]
    assert not bad.ok and "kestrel.md" in bad.message and "the earlier version is kept" in bad.message
    assert (settings.uploads_dir / "kestrel.md").read_text(encoding="utf-8") == good
    assert sorted(p.name for p in settings.uploads_dir.iterdir()) == ["kestrel.md"]
    qa = Assistant(settings)
    assert "4412" in qa.ask("How many birds did the Kestrel survey count?").answer
    newer = good.replace("4412", "5120")
    res = ingest_uploads([("kestrel.md", newer.encode())], settings).results[0]
    assert res.ok and "replaced the earlier version" in res.message
    ans = qa.ask("How many birds did the Kestrel survey count?").answer
    assert "5120" in ans and "4412" not in ans


def test_a_sidecar_applies_to_its_uploaded_document(make_settings):
    from rag import Assistant

    settings = make_settings()
    doc = b"The Kestrel survey counted 4412 birds on the Amur in 1952 along the river."
    results = ingest_uploads([("Kestrel Notes.txt", doc), ("Kestrel Notes.txt.meta.yaml", b"title: Amur birds\nyear: 1953\n")], settings).results
    assert [r.ok for r in results] == [True, True], results
    (d,) = Assistant(settings).documents()
    assert d["title"] == "Amur birds" and d["year"] == 1953
    again = ingest_uploads([("Kestrel Notes.txt.meta.yaml", b"title: Amur birds, revised\n")], settings).results[0]
    assert again.ok and "applied to Kestrel_Notes.txt" in again.message
    assert Assistant(settings).documents()[0]["title"] == "Amur birds, revised"
