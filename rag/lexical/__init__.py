"""Lexical (BM25) retrieval: case- and diacritic-folded, stemmed; segmented so it keeps up with large stores."""

from rag.lexical.index import LexicalIndex
from rag.lexical.sync import LEXICAL_VERSION, current, load, save, sync

__all__ = ["LEXICAL_VERSION", "LexicalIndex", "current", "load", "save", "sync"]
