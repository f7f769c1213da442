"""rag.store: typed writes and reads against a real embedded Chroma in a temporary folder."""

from __future__ import annotations

import numpy as np

from rag.chunk_schema import SENTENCE_VECTORS, chunk_metadata, sentence_spans_of
from rag.models import DocumentMeta
from rag.store import ChunkRecord, FileEntry, Store


def _vec(i: int) -> np.ndarray:
    v = np.zeros(384, dtype=np.float32)
    v[i] = 1.0
    return v


def _meta(source: str, spans) -> dict:
    doc = DocumentMeta(doc_id="d", title="T", authors=["A", "B"])
    return chunk_metadata(doc, source, index=0, start=0, end=9, tokens=3, sentence_spans=spans, content_hash="h")


def test_typed_writes_round_trip(make_settings):
    store = Store(make_settings(), "test-model")
    store.chunks(create=True, for_write=True)
    spans = [(0, 4), (5, 9)]
    sv = np.vstack([_vec(5), _vec(6)])
    store.write_chunks([ChunkRecord(f"d-{i}", "one. two.", _meta("/a.md", spans), _vec(i), sv) for i in range(3)])
    store.put_file("/a.md", FileEntry(doc_id="d", content_hash="h", n_chunks=3, n_sentences=6, ingested_at=1.5))
    (got,) = store.get_chunks(["d-1"])
    assert got.text == "one. two." and got.metadata["authors"] == "A; B"
    assert np.allclose(got.vector, _vec(1))
    # the sentence vectors come back as an array beside the metadata, not inside it
    assert SENTENCE_VECTORS not in got.metadata and np.array_equal(got.sentence_vectors, sv)
    assert sentence_spans_of(got.metadata) == spans
    (hits,) = store.query_chunks(_vec(2)[None, :], 1)
    assert hits[0][0].chunk_id == "d-2" and np.array_equal(hits[0][0].sentence_vectors, sv)
    assert store.manifest() == {"/a.md": FileEntry(doc_id="d", content_hash="h", n_chunks=3, n_sentences=6, ingested_at=1.5)}

    # a chunk stored without sentence vectors (an older store) reads back with None
    store.write_chunks([ChunkRecord("x-0", "stray one", _meta("/x.md", [(0, 9)]), _vec(9))])
    assert store.get_chunks(["x-0"])[0].sentence_vectors is None
    # chunks of a source no entry knows are orphans; a source's chunks go, then its entry
    assert store.orphans({"/a.md"}) == {"/x.md": ["x-0"]}
    store.delete_chunk_ids(["x-0"])
    assert store.delete_source("/a.md") == 3
    store.delete_file("/a.md")
    assert store.count() == 0 and store.manifest() == {}


def test_an_entry_written_before_states_reads_as_done():
    old = FileEntry.from_row({"doc_id": "d", "content_hash": "h", "n_chunks": 2})
    assert old.state == "done" and old.n_sentences is None
    assert FileEntry.from_row(FileEntry(doc_id="d", state="writing").row()).state == "writing"
