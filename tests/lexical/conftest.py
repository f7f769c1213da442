"""A real tantivy index in a tmp folder, filled directly (no store) for the index and analyzer tests."""

from __future__ import annotations

import pytest

from rag.lexical import LexicalIndex


def fill(index: LexicalIndex, rows: list[dict]) -> LexicalIndex:
    """Add rows (chunk_id, text, source, doc_id, year) in one commit, as a sync does."""
    writer = index.writer(heap_mb=32, threads=1)
    for r in rows:
        writer.add_document(
            LexicalIndex.document(r["chunk_id"], r["text"], r["source"], "h", r["doc_id"], r["year"])
        )
    writer.commit()
    writer.wait_merging_threads()
    del writer
    index.reload()
    return index


@pytest.fixture
def new_index(tmp_path):
    def make(rows: list[dict], name: str = "lex") -> LexicalIndex:
        return fill(LexicalIndex(tmp_path / name), rows)

    return make
