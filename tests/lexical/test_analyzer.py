"""The tantivy analyzer folds, stems and drops what rag.text.lexical_tokens drops."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from rag.lexical import analyzer
from rag.text import lexical_tokens, stem

PROSE = (
    "The Kōan Maru's repatriates sailed from Nakhodka to Maizuru in 1953; some 1,234 internees "
    "had been held at camps in Siberia, and the Khabarovsk trials of 1949 judged 12 soldiers."
)


def test_case_and_diacritics_fold_and_words_stem():
    assert analyzer.tokens("KŌAN Maru's Ｓａｔō") == ["koan", "maru", "sato"]
    assert analyzer.tokens("Koan maru sato") == ["koan", "maru", "sato"]
    assert analyzer.tokens("repatriations") == analyzer.tokens("repatriation") == [stem("repatriations")]


def test_decomposed_accents_fold_like_composed_ones():
    assert analyzer.tokens("Ko\u0304an") == analyzer.tokens("Kōan") == ["koan"]


def test_same_terms_as_the_answering_layers_tokens():
    """doc_freq is asked with rag.text tokens: the index must hold the very same terms."""
    assert analyzer.tokens(PROSE) == lexical_tokens(PROSE)


def test_same_stems_as_snowball_in_rag_text():
    words = ["suspended", "provisions", "negotiating", "sentenced", "internment", "camps", "arguing"]
    assert [analyzer.tokens(w) for w in words] == [[stem(w)] for w in words]


def test_stemming_is_safe_from_many_threads():
    """Under load the HTTP service answers in several threads at once; each must get its own stems."""
    from rag import text

    words = [
        f"{w}{s}"
        for w in ("repatriat", "intern", "suspend", "provision", "negotiat", "sentenc")
        for s in ("ed", "ing", "ions", "es")
    ]
    words = [f"{w}{i}" if i % 2 else w for i, w in enumerate(words * 200)]
    expected = [text._stemmer().stemWord(w) for w in words]

    def work(chunk: list[str]) -> list[str]:
        return [text._stemmer().stemWord(w) for w in chunk]  # no cache: the stemmer runs every time

    parts = [words[i::8] for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(work, parts))
    for i, part in enumerate(got):
        assert part == expected[i::8]
    plain = [(w, e) for w, e in zip(words, expected, strict=True) if w.isalpha()]
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(analyzer.tokens, [w for w, _ in plain])) == [[e] for _, e in plain]
