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
        # a research portal's record fields, run together by the sentence splitter
        "Original languageEnglish\nPages (from-to)200-230\nJournalJournal of Cold War Studies\nIssue number3\nPublication statusPublished - 2022",
        "Volume\n24\nPeer reviewed\nYes\nLanguage\nEnglish",
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
        # hard-wrapped prose keeps its line breaks and is still prose
        "The Soviet Union treated Japanese internees with a higher degree of neglect\nand mistrust and employed them as a mass labor force on large-scale Soviet\ninfrastructure and industrial projects across Siberia.",
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


def test_sentences_come_from_the_chunk_spans_and_old_chunks_are_encoded_on_demand():
    """A chunk read with its sentence vectors needs no encoder; one stored before they were kept
    with the chunk (no vectors) has exactly its own sentences encoded, in span order."""
    import json

    import numpy as np

    from rag.answering.evidence import gather
    from rag.models import Passage

    text = "The Koan Maru sailed from Nakhodka in 1953. It carried returnees home to Maizuru."
    spans = [(0, 43), (44, len(text))]
    meta = {"title": "Notes", "sentences": json.dumps(spans)}
    new = Passage(chunk_id="a", doc_id="d", text=text, metadata=meta)
    old = Passage(chunk_id="b", doc_id="d", text=text, metadata=meta)
    stored = np.eye(2, 4, dtype=np.float32)
    asked: list[list[str]] = []

    def encode(texts):
        asked.append(texts)
        return np.full((len(texts), 4), 0.5, dtype=np.float32)

    got = gather([new, old], {"a": stored}, encode)
    assert asked == [[text[0:43], text[44:]]]  # only the old chunk's sentences
    assert [(s.text, s.passage) for s in got] == [(text[0:43], 0), (text[44:], 0), (text[0:43], 1), (text[44:], 1)]
    assert np.array_equal(got[0].vec, stored[0]) and np.allclose(got[2].vec, 0.5)
    assert gather([new], {"a": stored}, encode) and len(asked) == 1


def test_authors_named_by_the_question_count_in_their_own_documents_sentences():
    """"Into how many periods do King and Muminov divide ...?": the article says "we", the notes
    about it say "King and Muminov"; in the article's own sentences the names count as present."""
    import numpy as np

    from rag.answering.evidence import Sentence, score_sentences
    from rag.answering.terms import Term

    v = np.ones(4, dtype=np.float32) / 2
    ours = Sentence("We explore their treatment over four discrete periods.", 0, 0, 10, v)
    notes = Sentence("The notes describe how the article is organised.", 1, 0, 10, v)
    terms = [Term("king", 1.0, True, word="king"), Term("muminov", 1.0, True, word="muminov"), Term("period", 1.0, False, word="periods")]
    plain = {s.sentence.text: s.coverage for s in score_sentences([ours, notes], v, terms)}
    named = {s.sentence.text: s.coverage for s in score_sentences([ours, notes], v, terms, [{"king", "muminov", "ami", "sherzod"}, set()])}
    assert plain[ours.text] == 1 / 3 and named[ours.text] == 1.0
    assert named[notes.text] == plain[notes.text] == 0.0
