"""Text utilities shared by ingest and retrieval: folding, sentences, lexical tokens."""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_COMBINING = re.compile(r"[\u0300-\u036f]")


def fold(text: str) -> str:
    """Case-, width- and diacritic-insensitive form: Kōan Maru == koan maru, Ｓａｔō == sato."""
    t = unicodedata.normalize("NFKD", text)
    t = _COMBINING.sub("", t)
    t = t.casefold()
    # Typographic variants that users type plainly.
    t = t.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    t = t.replace("\u2013", "-").replace("\u2014", "-")
    return re.sub(r"\s+", " ", t).strip()


def contains(haystack: str, needle: str) -> bool:
    return fold(needle) in fold(haystack)


STOPWORDS = frozenset(
    ["a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself", "yourselves", "did", "does", "according", "roughly", "approximately", "many", "much", "did", "what's", "who's", "whose", "s", "t", "don", "many", "kind", "kinds", "way", "ways", "say", "says", "said", "give", "gave", "given", "one", "ones"]
)

_TOKEN = re.compile(r"[0-9][0-9,.]*[0-9]|[0-9]+|[a-z]+(?:'[a-z]+)?")


def lexical_tokens(text: str, keep_stopwords: bool = False, stemmed: bool = True) -> list[str]:
    """Tokens for BM25: folded words, numbers without thousands separators, light plural stripping.

    Cached per text: the answerer reads the same passages and sentences again for every question
    that retrieves them (and once per question for each of its windows)."""
    return list(_tokens(text, keep_stopwords, stemmed))


@lru_cache(maxsize=20_000)
def _tokens(text: str, keep_stopwords: bool, stemmed: bool) -> tuple[str, ...]:
    out = []
    for tok in _TOKEN.findall(fold(text)):
        if tok[0].isdigit():
            out.append(tok.replace(",", "").rstrip("."))
            continue
        if tok.endswith("'s"):
            tok = tok[:-2]
        if not keep_stopwords and (tok in STOPWORDS or len(tok) < 2):
            continue
        out.append(stem(tok) if stemmed else tok)
    return tuple(out)


@lru_cache(maxsize=200_000)
def stem(tok: str) -> str:
    """Snowball (Porter 2) stem: suspended/suspend, provisions/provision match."""
    return _stemmer().stemWord(tok)


_local = threading.local()


def _stemmer():
    """One stemmer per thread: a Snowball stemmer keeps the word being stemmed in its own state, so
    threads sharing one corrupt each other's words (seen under load as an IndexError)."""
    st = getattr(_local, "stemmer", None)
    if st is None:
        import snowballstemmer

        st = _local.stemmer = snowballstemmer.stemmer("english")
    return st


# ---------------------------------------------------------------- sentences

_ABBREV = {
    "mr", "mrs", "ms", "dr", "prof", "lt", "col", "gen", "maj", "capt", "sgt", "st", "jr", "sr",
    "vol", "vols", "no", "nos", "pp", "p", "ed", "eds", "trans", "fig", "figs", "ch", "chap", "sec",
    "e.g", "i.e", "etc", "cf", "vs", "ca", "c", "approx", "est", "dept", "univ", "co", "inc", "ltd",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k",
    "u.s.s.r", "op", "cit", "ibid", "al", "rev", "repr", "n.d",
}

_BOUNDARY = re.compile(
    r"""([.!?]["'\u201d\u2019)\]]*)(\s+)(?=["'\u201c\u2018(\[]?[A-Z0-9\u00C0-\u024F\u0370-\u03ff\u0400-\u04ff\u3000-\u9fff])"""
    r"""|([\u3002\uff01\uff1f][\u300d\u300f\uff09]*)(\s*)"""  # Japanese and Chinese: 。！？ need no space
)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


def _is_abbrev(before: str, after: str = "") -> bool:
    m = re.search(r"([A-Za-z][A-Za-z.]*)\.$", before)
    if not m:
        return False
    word = m.group(1).lower()
    if len(word) == 1:  # initials: J. D. J. Brown
        return True
    if after[:1].isdigit() and re.fullmatch(r"([a-z]\.)+[a-z]", word):
        return True  # a dotted abbreviation before a number: "A.D. 1475", "p.m. 3", not "in 1200 B.C. The"
    return word in _ABBREV


def split_sentences(text: str, offset: int = 0) -> list[Span]:
    """Sentence spans with offsets; paragraph and list-item breaks always end a sentence."""
    spans: list[Span] = []
    for block in re.finditer(r"[^\n]+(?:\n(?!\s*\n|\s*[-*•]\s|\s*\d+[.)]\s|#)[^\n]+)*", text):
        btext = block.group(0)
        bstart = block.start()
        cur = 0
        for m in _BOUNDARY.finditer(btext):
            cjk = m.group(1) is None
            end = m.end(3) if cjk else m.end(1)
            if not cjk and _is_abbrev(btext[cur:end], btext[m.end(2):m.end(2) + 1]):
                continue
            _add(spans, btext, bstart + offset, cur, end)
            cur = m.end(4) if cjk else m.end(2)
        _add(spans, btext, bstart + offset, cur, len(btext))
    return spans


def _add(spans: list[Span], btext: str, base: int, s: int, e: int) -> None:
    seg = btext[s:e]
    lead = len(seg) - len(seg.lstrip())
    trail = len(seg.rstrip())
    seg = seg.strip()
    if seg:
        spans.append(Span(base + s + lead, base + s + trail, seg))
