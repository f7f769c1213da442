"""rag.chunk_schema: the one layout of a chunk's metadata, written by ingest and read back typed."""

from __future__ import annotations

from rag.chunk_schema import authors_of, chunk_metadata, sentence_spans_of
from rag.models import DocumentMeta


def test_round_trip_of_lists_and_optional_fields():
    meta = DocumentMeta(doc_id="d", title="T", authors=["Amy King", "Sherzod Muminov"], year=2022, doi="10.1/x")
    m = chunk_metadata(meta, "src.md", index=3, start=10, end=90, tokens=40, sentence_spans=[(0, 30), (31, 80)],
                       content_hash="h", page=2, ocr_confidence=87.26)
    assert authors_of(m) == ["Amy King", "Sherzod Muminov"]
    assert sentence_spans_of(m) == [(0, 30), (31, 80)]
    assert (m["year"], m["doi"], m["page"], m["ocr_confidence"]) == (2022, "10.1/x", 2, 87.3)
    assert "volume" not in m and all(isinstance(v, str | int | float) for v in m.values())  # Chroma scalars only
    bare = chunk_metadata(DocumentMeta(doc_id="e", title="U"), "e.txt", index=0, start=0, end=5, tokens=2,
                          sentence_spans=[], content_hash="h")
    assert authors_of(bare) == [] and sentence_spans_of(bare) == [] and "page" not in bare
    assert sentence_spans_of({"sentences": "not json"}) == []


def test_a_chunk_gives_back_its_documents_record():
    from rag.chunk_schema import chunk_metadata, document_meta_of
    from rag.models import DocumentMeta

    meta = DocumentMeta(
        doc_id="king-muminov-2022", title="Japan Still Has Cadres Remaining", authors=["Amy King", "Sherzod Muminov"],
        year=2022, container="Journal of Cold War Studies", volume="24", issue="3", pages="200–230",
        source_type="journal article",
    )
    row = chunk_metadata(meta, "a.txt", index=0, start=0, end=10, tokens=3, sentence_spans=[(0, 10)], content_hash="h")
    assert document_meta_of(row) == meta
    assert document_meta_of({**row, "volume": 24}).volume == "24"  # another writer's number
    assert document_meta_of({"doc_id": "x"}) == DocumentMeta(doc_id="x", title="x")
