"""Lexical (BM25) retrieval on tantivy: case- and diacritic-folded, stemmed, synced from the store."""

from rag.lexical.index import LexicalIndex
from rag.lexical.sync import LEXICAL_VERSION, current, load, sync

__all__ = ["LEXICAL_VERSION", "LexicalIndex", "current", "load", "sync"]
