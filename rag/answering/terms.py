"""The question's key terms, weighted by how rare they are in the corpus."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rag.answering.numbers import NUMBER_WORDS
from rag.lexical import LexicalIndex
from rag.text import fold, lexical_tokens, stem

# Words that shape a question but never carry its subject.
QUESTION_WORDS = frozenset(
    ["article", "authors", "author", "paper", "book", "text", "source", "sources", "corpus", "according", "describe", "described", "characterise", "characterize", "characterised", "explain", "happen", "happened", "happens", "take", "took", "mean", "means", "name", "named", "title", "call", "called", "main", "mainly", "reason", "reasons", "role", "kind", "type", "sort", "number", "figure", "figures", "total", "roughly", "approximately", "about", "around", "exactly", "compare", "comparison", "differ", "difference", "different", "similar", "side", "sides", "think", "view", "argue", "argues", "argument", "claim", "claims", "suggest", "suggests", "say", "says", "said", "state", "states", "stated", "tell", "told", "give", "gives", "doe", "did", "do", "many", "much", "long", "often", "first", "last", "later", "earlier", "year", "years", "date", "dates", "day", "time", "period", "happen", "who", "whom", "whose", "which", "what", "when", "where", "why", "how"]
)

_NUMBER = re.compile(r"^\d")


@dataclass
class Term:
    token: str
    weight: float
    specific: bool  # a name, number or year: its absence from the evidence is telling
    known: bool = True  # occurs somewhere in the corpus
    word: str = ""  # the folded surface form, for word-level similarity
    rarity: float = 0.0  # weight over the weight of a word no chunk has: comparable across corpora


def key_terms(question: str, index: LexicalIndex, specific: set[str] | None = None) -> list[Term]:
    """`specific`: folded words the tagger found to be names or numbers (see question.analyse);
    without it, digits and capitalised words after the first count as specific."""
    n = max(1, len(index))
    if specific is None:
        specific = {
            fold(w)
            for i, w in enumerate(re.findall(r"[\w'\u2019-]+", question))
            if (i > 0 and w[:1].isupper()) or w[:1].isdigit()
        }
    spec_tokens = {t for w in specific for t in lexical_tokens(w, keep_stopwords=True, stemmed=False)}
    out: dict[str, Term] = {}
    for word in lexical_tokens(question, stemmed=False):
        tok = stem(word) if word[:1].isalpha() else word
        if tok in QUESTION_WORDS or word in QUESTION_WORDS or word in NUMBER_WORDS or tok in out:
            continue  # a number in words is read as a number (numbers.py), not matched as a word
        df = index.doc_freq(tok)
        weight = math.log(1 + n / (df + 1))
        out[tok] = Term(tok, weight, bool(_NUMBER.match(tok)) or word in spec_tokens, df > 0, word, weight / math.log(1 + n))
    return list(out.values())


def coverage(terms: list[Term], tokens: set[str]) -> float:
    total = sum(t.weight for t in terms)
    if total == 0:
        return 0.0
    return sum(t.weight for t in terms if t.token in tokens) / total


@dataclass(frozen=True)
class Surface:
    """A text's words as term_match reads them, made once per text (not once per term)."""

    stems: frozenset[str]
    words: tuple[str, ...]  # the alphabetic surface words, for word similarity

    @classmethod
    def of(cls, text: str) -> Surface:
        surface = lexical_tokens(text, stemmed=False)
        return cls(
            frozenset(stem(w) if w[:1].isalpha() else w for w in surface),
            tuple(dict.fromkeys(w for w in surface if w[:1].isalpha())),
        )


def term_match(term: Term, sentence: str | Surface, words) -> float:
    """1 when the sentence has the term's stem, else its closest word's similarity (0 if unrelated)."""
    from rag.answering.wordsim import SOFT_MIN

    surface = sentence if isinstance(sentence, Surface) else Surface.of(sentence)
    if term.token in surface.stems:
        return 1.0
    if not term.word or not term.word[:1].isalpha():
        return 0.0
    sim = words.best_match(term.word, list(surface.words))
    return sim if sim >= SOFT_MIN else 0.0

