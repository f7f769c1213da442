"""rag.store: typed writes and reads against a real embedded Chroma in a temporary folder."""

from __future__ import annotations

import numpy as np

from rag.store import ChunkRecord, FileEntry, SentenceRecord, Store


def _vec(i: int) -> np.ndarray:
    v = np.zeros(384, dtype=np.float32)
    v[i] = 1.0
    return v


def test_typed_writes_round_trip(make_settings):
    store = Store(make_settings(), "test-model")
    store.chunks(create=True, for_write=True)
    meta = {"doc_id": "d", "source": "/a.md", "authors": "A; B"}
    store.write_chunks([ChunkRecord(f"d-{i}", f"text {i}", meta, _vec(i)) for i in range(3)])
    store.write_sentences(
        [SentenceRecord("d-0", "one.", 0, 4, _vec(5), doc_id="d", source="/a.md"),
         SentenceRecord("d-0", "two.", 5, 9, _vec(6), doc_id="d", source="/a.md"),
         SentenceRecord("d-1", "three.", 0, 6, _vec(7), doc_id="d", source="/a.md")]
    )
    store.put_file("/a.md", FileEntry(doc_id="d", content_hash="h", n_chunks=3, n_sentences=3, ingested_at=1.5))
    got = store.get_chunks(["d-1"])
    assert got[0].text == "text 1" and got[0].metadata["authors"] == "A; B"
    assert np.allclose(got[0].vector, _vec(1))
    sents = store.sentences_of(["d-0"])
    assert [(s.text, s.start, s.end) for s in sents] == [("one.", 0, 4), ("two.", 5, 9)]
    assert store.manifest() == {"/a.md": FileEntry(doc_id="d", content_hash="h", n_chunks=3, n_sentences=3, ingested_at=1.5)}
    assert store.row_count("chunks") == 3 and store.row_count("sentences") == 3

    # a source gone: its chunks and sentences, then its entry; rows of an unknown source are orphans
    store.write_chunks([ChunkRecord("x-0", "stray", {"doc_id": "x", "source": "/x.md"}, _vec(9))])
    assert store.orphans("chunks", {"/a.md"}) == {"/x.md": ["x-0"]}
    store.delete_rows("chunks", ["x-0"])
    assert store.delete_source("/a.md") == 3
    store.delete_file("/a.md")
    assert store.row_count("chunks") == 0 and store.row_count("sentences") == 0 and store.manifest() == {}


def test_an_entry_written_before_states_reads_as_done():
    old = FileEntry.from_row({"doc_id": "d", "content_hash": "h", "n_chunks": 2})
    assert old.state == "done" and old.n_sentences is None
    assert FileEntry.from_row(FileEntry(doc_id="d", state="writing").row()).state == "writing"
