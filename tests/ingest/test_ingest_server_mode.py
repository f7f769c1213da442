"""CADRES_CHROMA_URL: the same ingest against a real `chroma run` server, nothing stored locally."""

from __future__ import annotations

import pytest
from ingest_testlib import prose, settings_at, snapshot, write

from ingest import IngestFatal, ingest_paths

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server_run(chroma_server, tmp_path_factory):
    from rag.store import forget_client

    base = tmp_path_factory.mktemp("server-mode")
    root = base / "docs"
    for i in range(3):
        write(root / f"doc-{i}.txt", prose(3, seed=400 + i))
    write(root / "two-pages.md", "# Two\n\n" + prose(2, seed=410))
    settings = settings_at(base / "data", chroma_url=chroma_server.url, collection="server-test")
    first = ingest_paths([root], settings, progress=False)
    yield root, settings, first
    forget_client(settings)


def _http_collection(server, name):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.HttpClient(
        host=server.host, port=server.port, settings=ChromaSettings(anonymized_telemetry=False)
    )
    return client.get_collection(name)


def test_chunks_are_in_the_server(server_run, chroma_server):
    root, settings, first = server_run
    assert first.files_failed == [] and first.files_added == 4
    col = _http_collection(chroma_server, "server-test")
    got = col.get(include=["documents", "metadatas"])
    assert col.count() == first.chunks_total == first.chunks_added == len(got["ids"]) >= 4
    sources = {m["source"] for m in got["metadatas"]}
    assert sources == {p.resolve().as_posix() for p in root.iterdir()}
    assert all(m.get("sentence_vectors") for m in got["metadatas"])  # each chunk carries its sentences
    assert _http_collection(chroma_server, "server-test-files").count() == 4


def test_nothing_written_to_the_local_chroma_dir(server_run, chroma_server):
    _, settings, _ = server_run
    assert not settings.chroma_path.exists()
    assert not any(p.name == "chroma.sqlite3" for p in settings.data_dir.rglob("*"))
    assert any(chroma_server.path.rglob("*")), "the server should have persisted something"


def test_second_run_adds_nothing(server_run, chroma_server):
    root, settings, first = server_run
    again = ingest_paths([root], settings, progress=False)
    assert again.chunks_added == again.chunks_removed == 0
    assert again.files_unchanged == 4
    assert again.chunks_total == first.chunks_total
    assert _http_collection(chroma_server, "server-test").count() == first.chunks_total


def test_same_ids_as_embedded_mode(server_run, tmp_path, make_settings):
    root, settings, _ = server_run
    local = make_settings()
    ingest_paths([root], local, progress=False)
    a, b = snapshot(settings), snapshot(local)
    assert set(a["chunks"]) == set(b["chunks"])
    assert a["chunks"] == b["chunks"] and a["sentences"] == b["sentences"]


def test_unreachable_server_is_fatal(tmp_path, make_settings, free_port):
    settings = make_settings(chroma_url=f"http://127.0.0.1:{free_port}")
    write(tmp_path / "docs" / "a.txt", prose(2))
    with pytest.raises(
        IngestFatal, match=rf"Chroma server at http://127\.0\.0\.1:{free_port} is not reachable"
    ):
        ingest_paths([tmp_path / "docs"], settings, progress=False)
