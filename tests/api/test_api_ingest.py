"""POST /v1/ingest: disabled without a key; uploads and paths under the data dir with one."""

from __future__ import annotations

import pytest
from api_testlib import assert_error
from fastapi.testclient import TestClient

KEY = {"X-API-Key": "ingest-key"}

NOTE = """---
title: "Harbin Tram Notes"
author: "Tanaka, Yuki"
date: 1951
doc_id: harbin-tram-notes
---
# Harbin trams

The Harbin tram depot employed 212 Japanese mechanics in the winter of 1947. The depot foreman,
Ishikawa Goro, kept the tram line running with spare parts from Mukden. The mechanics were sent
home through Dalian in the spring of 1948.
"""

SECOND = """The Qiqihar flour mill kept 40 Japanese millers until 1949. Their families lived in the
mill compound beside the Nonni river and were repatriated in 1950."""


def test_ingest_is_forbidden_without_a_configured_key(client):
    err = assert_error(client.post("/v1/ingest", json={"paths": ["docs"]}), 403)
    assert "CADRES_API_KEY" in err["message"]
    files = {"files": ("a.md", b"# A\n\nText.", "text/markdown")}
    assert_error(client.post("/v1/ingest", files=files), 403)


@pytest.fixture
def ingest_app(make_settings):
    """An app with an API key over its own empty store (the shared corpus store stays untouched)."""
    from rag import Assistant
    from rag.api.app import create_app

    settings = make_settings(api_key="ingest-key")
    return settings, TestClient(create_app(settings, Assistant(settings)))


def test_upload_then_listed_and_answerable(ingest_app):
    settings, c = ingest_app
    files = [
        ("files", ("../../harbin trams?.md", NOTE.encode(), "text/markdown")),
        ("files", ("qiqihar.txt", SECOND.encode(), "text/plain")),
        ("files", ("tool.exe", b"MZ\x90\x00", "application/octet-stream")),
    ]
    r = c.post("/v1/ingest", files=files, headers=KEY)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["files_added"] == 2 and report["chunks_total"] >= 2
    assert [f["path"] for f in report["files_failed"]] == ["tool.exe"]
    assert "unsupported file type" in report["files_failed"][0]["error"]
    saved = sorted(p.name for p in settings.uploads_dir.iterdir())
    assert saved == ["harbin_trams.md", "qiqihar.txt"]  # safe names, inside uploads/

    docs = c.get("/v1/documents", headers=KEY).json()["documents"]
    by_id = {d["doc_id"]: d for d in docs}
    assert "harbin-tram-notes" in by_id and by_id["harbin-tram-notes"]["year"] == 1951
    assert by_id["harbin-tram-notes"]["title"] == "Harbin Tram Notes"

    r = c.post(
        "/v1/ask",
        json={"question": "How many Japanese mechanics worked at the Harbin tram depot?"},
        headers=KEY,
    )
    ans = r.json()
    assert not ans["refused"], ans
    assert "[1]" in ans["answer"] and ans["citations"][0]["doc_id"] == "harbin-tram-notes"

    # the same file again: unchanged; a new version: updated in place
    r = c.post(
        "/v1/ingest",
        files=[("files", ("harbin_trams.md", NOTE.encode(), "text/markdown"))],
        headers=KEY,
    )
    assert r.json()["files_unchanged"] == 1
    r = c.post(
        "/v1/ingest",
        files=[
            ("files", ("harbin_trams.md", (NOTE + "\nA later note.\n").encode(), "text/markdown"))
        ],
        headers=KEY,
    )
    assert r.json()["files_updated"] == 1
    assert len(c.get("/v1/documents", headers=KEY).json()["documents"]) == 2


def test_upload_size_and_type_checks(ingest_app, make_settings):
    settings, c = ingest_app
    err = assert_error(
        c.post(
            "/v1/ingest",
            files={"files": ("x.docx", b"PK..", "application/octet-stream")},
            headers=KEY,
        ),
        400,
        field="files",
    )
    assert "unsupported file type" in err["message"]
    from rag import Assistant
    from rag.api.app import create_app

    small = settings.model_copy(update={"max_file_mb": 0.001})  # 1048 bytes
    c2 = TestClient(create_app(small, Assistant(small)))
    err = assert_error(
        c2.post(
            "/v1/ingest", files={"files": ("big.md", b"word " * 400, "text/markdown")}, headers=KEY
        ),
        400,
    )
    assert "CADRES_MAX_FILE_MB" in err["message"]
    assert_error(c.post("/v1/ingest", data={"note": "no file"}, files={}, headers=KEY), 415)


def test_paths_must_be_under_the_data_dir(ingest_app, tmp_path):
    settings, c = ingest_app
    outside = tmp_path / "outside.md"
    outside.write_text(NOTE)
    for i, bad in enumerate([str(outside), "../outside.md", "/etc/passwd"]):
        body = {"paths": [str(settings.data_dir / "fine.md"), bad]} if i == 0 else {"paths": [bad]}
        field = "paths[1]" if i == 0 else "paths[0]"
        err = assert_error(c.post("/v1/ingest", json=body, headers=KEY), 400, field=field)
        assert bad in err["message"] and "CADRES_DATA_DIR" in err["message"]
    err = assert_error(
        c.post("/v1/ingest", json={"paths": ["chroma"]}, headers=KEY), 400, field="paths[0]"
    )
    assert_error(c.post("/v1/ingest", json={"paths": []}, headers=KEY), 422, field="paths")
    assert_error(c.post("/v1/ingest", json={"files": ["a"]}, headers=KEY), 422)


def test_paths_under_the_data_dir_are_ingested(ingest_app):
    settings, c = ingest_app
    folder = settings.data_dir / "docs"
    folder.mkdir(parents=True)
    (folder / "qiqihar.md").write_text(SECOND)
    r = c.post(
        "/v1/ingest", json={"paths": ["docs/qiqihar.md", str(folder / "missing.md")]}, headers=KEY
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["files_added"] == 1
    assert len(report["files_failed"]) == 1 and "missing.md" in report["files_failed"][0]["path"]
    assert [d["doc_id"] for d in c.get("/v1/documents", headers=KEY).json()["documents"]] == [
        "qiqihar"
    ]


def test_a_bad_new_version_over_http_keeps_the_earlier_one(ingest_app):
    """The HTTP API follows the same upload policy as the chat page (ingest.uploads)."""
    settings, c = ingest_app
    files = [("files", ("harbin_trams.md", NOTE.encode(), "text/markdown"))]
    assert c.post("/v1/ingest", files=files, headers=KEY).json()["files_added"] == 1
    bad = [("files", ("harbin_trams.md", b"\x00\x01\x02" * 400, "text/markdown"))]
    report = c.post("/v1/ingest", files=bad, headers=KEY).json()
    assert report["files_failed"] and "the earlier version is kept" in report["files_failed"][0]["error"]
    assert (settings.uploads_dir / "harbin_trams.md").read_text(encoding="utf-8") == NOTE
    assert sorted(p.name for p in settings.uploads_dir.iterdir()) == ["harbin_trams.md"]
    ans = c.post(
        "/v1/ask", json={"question": "How many Japanese mechanics worked at the Harbin tram depot?"}, headers=KEY
    ).json()
    assert not ans["refused"] and ans["citations"][0]["doc_id"] == "harbin-tram-notes"
