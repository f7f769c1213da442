"""Which sentences may be quoted: prose, not reference lists, boilerplate, meta sentences or headings."""

from __future__ import annotations

import pytest

from rag.answering.evidence import _reference_start, is_prose, is_title_line
from rag.answering.verdict import surface


@pytest.mark.parametrize(
    "text",
    [
        "- J. D. J. Brown review, Monumenta Nipponica 69, no. 2 (2014): 301-305.",
        "Brown, J. D. J. 2014. Review of The Gods Left First. Monumenta Nipponica.",
        "Barshay, Andrew E. The Gods Left First. Berkeley: University of California Press, 2013.",
        "Research output: Contribution to journal › Article › peer-review",
        "Dive into the research topics of 'Japan Still Has Cadres Remaining'. Together they form a unique fingerprint.",
        "These notes cover the Khabarovsk trial of December 1949 and its aftermath.",
        "Cite this article in APA, Harvard or Vancouver style.",
        "Where did the ships land?",
        "Camp politics in the USSR",
    ],
)
def test_not_prose(text):
    assert not is_prose(text)


@pytest.mark.parametrize(
    "text",
    [
        "The Soviet Union treated Japanese internees with a higher degree of neglect and mistrust.",
        "Normandy, a region in France, took its name from the Normans who settled there.",
        "The duchy began in 911 when Rollo received land from the king.",
    ],
)
def test_prose(text):
    assert is_prose(text)


def test_sentences_after_a_references_heading_are_cut():
    text = "Body sentence one is here.\n\nReferences\n\nBrown 2014. A book."
    assert _reference_start(text) == text.index("References")
    assert _reference_start("No list here.") > len("No list here.")


def test_refusals_name_the_questions_words_not_stems():
    q = "How many Japanese prisoners did France hold in Indochina?"
    assert surface(q, ["prisoners", "france", "indochina"]) == ["prisoners", "France", "Indochina"]
    assert surface("What happened to the Kōan Maru?", ["koan"]) == ["Kōan"]


@pytest.mark.parametrize(
    ("text", "title_line"),
    [
        ("The Legend of Zelda: Twilight Princess", True),
        ("# Japan Still Has Cadres Remaining: Japanese in the USSR and China", True),
        ("Japan Still Has Cadres Remaining \u2013 a review", True),
        ("Japan Still Has Cadres Remaining by Amy King and Sherzod Muminov", True),
        ("The Legend of Zelda: Twilight Princess (Japanese: Zeruda no Densetsu) is an action-adventure game.", False),
        ("Japan Still Has Cadres Remaining compares Soviet and Chinese policies.", False),
    ],
)
def test_only_the_title_line_is_dropped_not_a_sentence_opening_with_the_title(text, title_line):
    """A document's first sentence often opens with its title and is its most quotable one."""
    title = "The Legend of Zelda: Twilight Princess" if "Zelda" in text else "Japan Still Has Cadres Remaining"
    assert is_title_line(text, title.casefold()) is title_line
