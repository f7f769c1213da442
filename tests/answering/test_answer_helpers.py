"""Pure helpers of the answer chain, on hand-made inputs: citing and text."""

from __future__ import annotations

import pytest

from rag.citing import author_date, author_names, bibliography, bibliography_entry
from rag.models import Citation
from rag.text import fold, lexical_tokens, split_sentences


def cit(n, doc_id, title, authors, year=None, **kw) -> Citation:
    return Citation(n=n, doc_id=doc_id, chunk_id=f"{doc_id}::{n:05d}", title=title, authors=authors,
                    year=year, quote="q", **kw)


# ---------------------------------------------------------------- rag.citing
@pytest.mark.parametrize(
    ("authors", "year", "page", "title", "label"),
    [
        (["Amy King", "Sherzod Muminov"], 2022, 203, "", "King and Muminov 2022, p. 203"),
        (["Amy King", "Sherzod Muminov"], 2022, None, "", "King and Muminov 2022"),
        (["Barshay, Andrew E."], 2013, None, "", "Barshay 2013"),
        (["Adam Cathcart", "Patricia Nash", "Wei Li"], 2008, 5, "", "Cathcart, Nash, and Li 2008, p. 5"),
        (["Adam Cathcart", "Patricia Nash", "Wei Li", "Lori Watt"], 2008, None, "", "Cathcart et al. 2008"),
        (["cadres-qa editors"], 2026, None, "", "cadres-qa editors 2026"),  # an organisation, cited whole
        (["Amy King"], None, 7, "", "King n.d., p. 7"),
        ([], None, None, "Camp notices of the Siberian internment", "Camp notices of the Siberian internment n.d."),
        ([], 1950, None, "", "Unknown 1950"),
        (["", "  "], 1950, None, "Title", "Title 1950"),
    ],
)
def test_author_date(authors, year, page, title, label):
    assert author_date(authors, year, page, title) == label


def test_author_date_truncates_a_long_title():
    title = "A" * 100
    assert author_date([], 2000, None, title) == "A" * 60 + " 2000"


def test_author_names():
    assert author_names([]) == ""
    assert author_names(["Andrew Barshay"]) == "Barshay"
    assert author_names(["Muminov, Sherzod"]) == "Muminov"


def test_citation_label_property():
    c = cit(1, "king-muminov-2022", "Japan Still Has Cadres Remaining", ["Amy King", "Sherzod Muminov"], 2022, page=210)
    assert c.label == "King and Muminov 2022, p. 210"


def test_bibliography_is_sorted_deduplicated_chicago():
    km1 = cit(1, "km", "Japan Still Has Cadres Remaining", ["Amy King", "Sherzod Muminov"], 2022,
              container="Journal of Cold War Studies", url="https://doi.org/10.1162/jcws_a_01083")
    km2 = cit(2, "km", "Japan Still Has Cadres Remaining", ["Amy King", "Sherzod Muminov"], 2022,
              container="Journal of Cold War Studies", url="https://doi.org/10.1162/jcws_a_01083")
    book = cit(3, "barshay", "The Gods Left First", ["Andrew Barshay"], 2013)
    notes = cit(4, "notes", "The Soviet internment of Japanese", ["cadres-qa editors"], 2026,
                container="cadres-qa background notes")
    assert bibliography([km1, km2, book, notes]) == [
        "Barshay, Andrew. 2013. *The Gods Left First*.",
        "cadres-qa editors. 2026. \u201cThe Soviet internment of Japanese.\u201d *cadres-qa background notes*.",
        "King, Amy, and Sherzod Muminov. 2022. \u201cJapan Still Has Cadres Remaining.\u201d "
        "*Journal of Cold War Studies*. https://doi.org/10.1162/jcws_a_01083.",
    ]
    assert bibliography([]) == []


def test_bibliography_entry_accepts_dicts_and_three_authors():
    entry = bibliography_entry({"title": "Eleven Winters", "authors": ["Amy King", "Sherzod Muminov", "Lori Watt"],
                                "year": 2019})
    assert entry == "King, Amy, Sherzod Muminov, and Lori Watt. 2019. *Eleven Winters*."
    assert bibliography_entry({"title": "Untitled notes"}) .startswith("Untitled notes. n.d")


@pytest.mark.parametrize(
    ("citation", "entry"),
    [
        ({"title": "Notes", "authors": ["cadres-qa editors"]}, "cadres-qa editors. n.d. *Notes*."),
        ({"title": "The Gods Left First", "authors": ["Barshay, Andrew E."], "year": 2013},
         "Barshay, Andrew E. 2013. *The Gods Left First*."),
    ],
)
def test_bibliography_entry_has_no_doubled_full_stops(citation, entry):
    assert bibliography_entry(citation) == entry


# ---------------------------------------------------------------- rag.text
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("K\u014dan Maru", "koan maru"),
        ("Sat\u014d Naotake", "SATO NAOTAKE"),
        ("\uff33\uff41\uff54\u014d", "sato"),  # full-width letters
        ("Otoz\u014d", "otozo"),
        ("r\u00e9gime\u2019s \u201cdemocratic\u201d movement", "regime's \"democratic\" movement"),
        ("1904\u20131905 \u2014 war", "1904-1905 - war"),
        ("  many\t\tspaces\n here ", "many spaces here"),
    ],
)
def test_fold_equates_case_width_diacritics_and_typography(a, b):
    assert fold(a) == fold(b)


def test_lexical_tokens_fold_stem_and_normalise_numbers():
    assert lexical_tokens("K\u014dan Maru") == lexical_tokens("koan maru")
    assert lexical_tokens("about 575,000 internees") == ["575000", "interne"]
    assert "suspend" in lexical_tokens("suspended") and lexical_tokens("provisions") == lexical_tokens("provision")
    assert lexical_tokens("the of and") == []
    assert lexical_tokens("the of", keep_stopwords=True) == ["the", "of"]


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("The book by J. D. J. Brown appeared in 1999. It was reviewed widely.",
         ["The book by J. D. J. Brown appeared in 1999.", "It was reviewed widely."]),
        ("Lt. Col. Ivan Kovalenko was the chief editor of Nihon Shimbun. Asahara Masaki led the Japanese staff.",
         ["Lt. Col. Ivan Kovalenko was the chief editor of Nihon Shimbun.", "Asahara Masaki led the Japanese staff."]),
        ("Dr. Ito met Gen. Yamada on 5 Dec. 1949. They spoke briefly.",
         ["Dr. Ito met Gen. Yamada on 5 Dec. 1949.", "They spoke briefly."]),
        ("The U.S. Army left. Later the U.S.S.R. arrived.", ["The U.S. Army left.", "Later the U.S.S.R. arrived."]),
        ("See pp. 200-230 in vol. 24. Next.", ["See pp. 200-230 in vol. 24.", "Next."]),
        ("It ended in 1956. Then what? Nobody knew!", ["It ended in 1956.", "Then what?", "Nobody knew!"]),
        ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
        ("Heading\n\nFirst para. Second one.\n- item one\n- item two",
         ["Heading", "First para.", "Second one.", "- item one", "- item two"]),
        ("No end punctuation here", ["No end punctuation here"]),
        ("", []),
    ],
)
def test_split_sentences(text, sentences):
    assert [s.text for s in split_sentences(text)] == sentences


def test_split_sentences_offsets_point_into_the_text():
    text = "  Intro line here.  Second sentence follows.\n\nNew paragraph. Last."
    spans = split_sentences(text, offset=100)
    assert [s.text for s in spans] == ["Intro line here.", "Second sentence follows.", "New paragraph.", "Last."]
    for s in spans:
        assert text[s.start - 100 : s.end - 100] == s.text
