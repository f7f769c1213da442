"""How a question names a document: a capitalised author surname, or its kind ("the article")."""

from __future__ import annotations

import pytest

from rag.naming import capitalised_words, kind_asked, kind_of, surname


def test_surnames_are_capitalised_words_of_the_question():
    words = capitalised_words("When was King and Muminov's article published, and what did King-Muminov say of Satō?")
    assert {"king", "muminov", "sato"} <= words
    assert "king" not in capitalised_words("Which king granted the land?")


@pytest.mark.parametrize(
    ("author", "name"),
    [("Amy King", "king"), ("Sherzod Muminov", "muminov"), ("cadres-qa editors", None), ("Wu", None), ("", None)],
)
def test_surname(author, name):
    assert surname(author) == name


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What does the article say shaped Soviet policy?", "article"),
        ("Into how many periods does this journal article divide 1945-1956?", "article"),
        ("When was the hurricane report published?", "report"),
        ("Who wrote their book?", "book"),
        ("How many Japanese were interned?", None),
        ("Which articles of the treaty mention Japan?", None),  # not "the article" as a document
    ],
)
def test_kind_asked(question, kind):
    assert kind_asked(question) == kind


def test_kind_of_a_source_type():
    assert kind_of("journal article (abstract)") == "article"
    assert kind_of("background notes") == "notes"
    assert kind_of("government report, HTML") == "report"
    assert kind_of(None) is None and kind_of("web site") is None
