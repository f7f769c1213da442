"""The BM25 index: a tantivy index of the store's chunks (Lucene's BM25, k1 1.2, b 0.75).

Why tantivy: segments, deletions, merges, memory-mapped postings and fast top-k (block-max
WAND) come with it, in native code, so this module only maps chunks and filters onto it.
One tantivy index lives in a folder of the data dir; any number of processes read it and one
writes it at a time (see sync.py). A reader opened here sees one commit until `reload`.
"""

from __future__ import annotations

import threading
from pathlib import Path

from rag.lexical import analyzer

SEP = "\x1f"  # between a source key and its content hash in the `source` term


def schema():
    """chunk_id stored (what a hit returns); text analysed; source, doc_id, year for sync and filters."""
    from tantivy import SchemaBuilder

    sb = SchemaBuilder()
    sb.add_text_field("chunk_id", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("text", tokenizer_name=analyzer.NAME, index_option="freq")
    sb.add_text_field("source", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("doc_id", tokenizer_name="raw", index_option="basic")
    sb.add_integer_field("year", indexed=True, fast=True)
    return sb.build()


class LexicalIndex:
    """A tantivy index plus the store generation and collection it was last synced to."""

    def __init__(self, path: Path | None = None, generation: str = "none", collection_id: str = ""):
        from tantivy import Index

        self.path = path
        self.generation = generation
        self.collection_id = collection_id
        if path is None:
            self._index = Index(schema())  # in memory: a replica that cannot write its folder
        else:
            path.mkdir(parents=True, exist_ok=True)
            exists = Index.exists(str(path))
            self._index = Index.open(str(path)) if exists else Index(schema(), path=str(path))
        analyzer.register(self._index)
        self._index.config_reader("Manual")  # a search sees one commit; `reload` moves on
        self._schema = self._index.schema
        self.write_lock = threading.Lock()  # one tantivy writer per index, also within a process

    # ------------------------------------------------------------ reading
    def reload(self) -> None:
        """See the last commit (another process's too)."""
        self._index.reload()

    def _searcher(self):
        return self._index.searcher()

    @property
    def num_segments(self) -> int:
        return self._searcher().num_segments

    def __len__(self) -> int:
        return self._searcher().num_docs

    def doc_freq(self, token: str) -> int:
        """Live chunks holding this index term (a `rag.text.stem` of a folded word is one).

        Counted rather than read from the term dictionary, which still counts deleted chunks."""
        from tantivy import Query

        s = self._searcher()
        if not s.num_docs or not s.doc_freq("text", token):
            return 0
        return s.search(Query.term_query(self._schema, "text", token), limit=1, count=True).count

    def term_known(self, token: str) -> bool:
        return self.doc_freq(token) > 0

    def search(self, query: str, k: int, filters=None) -> list[tuple[str, float]]:
        """Top k (chunk_id, BM25 score) among chunks that pass the filters; ties by chunk id."""
        from tantivy import Occur, Query

        terms = analyzer.tokens(query)
        s = self._searcher()
        if not terms or k <= 0 or not s.num_docs:
            return []
        # A repeated query word counts once per occurrence, as in bm25s.
        q = Query.boolean_query([(Occur.Should, self._term(t)) for t in terms])
        where = self._filter(filters)
        if where is not None:
            q = Query.boolean_query([(Occur.Must, q), (Occur.Must, where)])
        hits = s.search(q, limit=k, count=False).hits
        out = [(s.doc(addr).get_first("chunk_id"), float(score)) for score, addr in hits]
        return sorted(out, key=lambda h: (-h[1], h[0]))

    def _term(self, token: str):
        from tantivy import Query

        return Query.term_query(self._schema, "text", token, index_option="freq")

    def _filter(self, filters):
        """Filters as a query that scores 0, so it restricts the hits without moving their scores.
        A chunk without a year never passes a year bound (as in Chroma)."""
        from tantivy import FieldType, Occur, Query

        if filters is None or filters.is_empty():
            return None
        parts = []
        if filters.doc_ids:
            parts.append(Query.term_set_query(self._schema, "doc_id", list(filters.doc_ids)))
        if filters.year_min is not None or filters.year_max is not None:
            parts.append(
                Query.range_query(
                    self._schema, "year", FieldType.Integer, filters.year_min, filters.year_max
                )
            )
        return Query.const_score_query(Query.boolean_query([(Occur.Must, p) for p in parts]), 0.0)

    def chunk_ids(self) -> set[str]:
        """Ids of every live chunk (for checks; a query never needs them all)."""
        from tantivy import Query

        s = self._searcher()
        if not s.num_docs:
            return set()
        hits = s.search(Query.all_query(), limit=s.num_docs, count=False).hits
        return {s.doc(addr).get_first("chunk_id") for _, addr in hits}

    def sources(self) -> dict[str, dict[str, int]]:
        """source -> {content hash: live chunks}, read from the index itself, so after any crash
        it says what the last commit holds."""
        from tantivy import Query

        out: dict[str, dict[str, int]] = {}
        s = self._searcher()
        for term, n in s.terms_with_prefix("source", "", filter_query=Query.all_query()):
            src, _, h = term.partition(SEP)
            out.setdefault(src, {})[h] = n
        return out

    # ------------------------------------------------------------ writing
    def writer(self, heap_mb: int = 128, threads: int = 2):
        """tantivy's writer; it takes the index's own lock file, held until the writer is dropped."""
        return self._index.writer(heap_size=heap_mb * 1_000_000, num_threads=threads)

    @staticmethod
    def document(chunk_id: str, text: str, source: str, content_hash: str, doc_id: str, year):
        from tantivy import Document

        doc = Document(
            chunk_id=chunk_id,
            text=analyzer.prepare(text),
            source=f"{source}{SEP}{content_hash}",
            doc_id=doc_id or "",
        )
        try:
            if year and int(year) > 0:
                doc.add_integer("year", int(year))
        except (TypeError, ValueError):
            pass  # no usable year: year filters leave the chunk out
        return doc
