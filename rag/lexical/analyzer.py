"""The one text analysis BM25 uses, at indexing and at query time: tantivy's own pipeline.

Tantivy keeps analyzers in memory only, so every open of an index registers this one again
(`register`); an index written with it and reopened without it could not be written to.
The steps mirror `rag.text.lexical_tokens` (folded, stopwords and single letters dropped,
Snowball English stems), so the answering layer's `doc_freq(stem(word))` finds the indexed terms.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rag.text import STOPWORDS

NAME = "cadres_en"
# Numbers (decimals kept whole), or words with one inner apostrophe (Snowball strips "'s").
PATTERN = r"[0-9]+(?:\.[0-9]+)*|\p{L}+(?:'\p{L}+)?"
MAX_TOKEN = 80  # a run of CJK text has no spaces: one huge token is useless to BM25
_THOUSANDS = re.compile(r"(?<=\d),(?=\d)")


@lru_cache(maxsize=1)
def analyzer():
    """Regex tokens, lowercased, ASCII-folded (Kōan = Koan, Ｓａｔō = Sato), stopwords out, stemmed."""
    from tantivy import Filter, TextAnalyzerBuilder, Tokenizer

    stop = sorted(STOPWORDS | set("abcdefghijklmnopqrstuvwxyz"))
    return (
        TextAnalyzerBuilder(Tokenizer.regex(PATTERN))
        .filter(Filter.lowercase())
        .filter(Filter.ascii_fold())
        .filter(Filter.remove_long(MAX_TOKEN))
        .filter(Filter.custom_stopword(stop))
        .filter(Filter.stemmer("english"))
        .build()
    )


def register(index) -> None:
    index.register_tokenizer(NAME, analyzer())


def prepare(text: str) -> str:
    """What tantivy cannot do itself: compose decomposed accents (NFC) so folding sees one letter,
    and drop thousands separators (1,234 -> 1234) as `lexical_tokens` does."""
    return _THOUSANDS.sub("", unicodedata.normalize("NFC", text))


def tokens(text: str) -> list[str]:
    """The index terms of a text (a query's, too)."""
    return analyzer().analyze(prepare(text))
