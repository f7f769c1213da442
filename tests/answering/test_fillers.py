"""Fillers of the asked kind: general dates, numbers and names, not one corpus's patterns."""

from __future__ import annotations

import pytest

from rag.answering.fillers import fillers
from rag.answering.nlp import annotate
from rag.answering.question import Slot


@pytest.mark.parametrize(
    ("sentence", "question"),
    [
        ("The duchy began in 911 under Rollo.", "When was the Duchy of Normandy founded?"),
        ("Norman knights reached southern Italy in the 10th century.", "When did Norman knights reach Italy?"),
        ("Their castles spread across England in the 1050s.", "When did the castles spread?"),
        ("The fleet sailed in 1066.", "When did the fleet sail?"),
        ("The last ship arrived on 24 December 1956.", "When did the last ship arrive?"),
    ],
)
def test_any_year_century_or_decade_is_a_date(sentence, question):
    assert fillers(annotate(sentence), Slot.DATE, question)


def test_a_sentence_without_a_date_has_no_date_filler():
    assert fillers(annotate("The duke ruled the land with his barons."), Slot.DATE, "When did the duke rule?") == []


def test_a_year_the_question_already_gives_is_no_filler():
    q = "What happened in 1956?"
    assert fillers(annotate("The declaration was signed in 1956."), Slot.DATE, q) == []


@pytest.mark.parametrize(
    "sentence",
    ["More than 1,500 Japanese died there.", "Some twelve officers were tried.", "Hundreds of ships sailed."],
)
def test_numbers_in_digits_and_words(sentence):
    assert fillers(annotate(sentence), Slot.NUMBER, "How many were there?")


def test_money_needs_a_currency():
    q = "How much did the repatriation cost?"
    assert fillers(annotate("It carried 1.05 million people."), Slot.MONEY, q) == []
    assert fillers(annotate("It cost 2 million dollars."), Slot.MONEY, q)


def test_a_single_word_name_is_a_person_filler():
    q = "Who was granted the land by the king?"
    assert "Rollo" in " ".join(fillers(annotate("The land was granted to Rollo by the king."), Slot.PERSON, q))
    assert fillers(annotate("The land was granted by the king to his barons."), Slot.PERSON, q) == []


def test_place_filler():
    q = "In what country is Normandy located?"
    assert "France" in " ".join(fillers(annotate("Normandy, a region in France, took its name from the Normans."), Slot.PLACE, q))


SURFACE_CASES = [
    ("The Duchy of Normandy began in 911 under Rollo.", Slot.DATE, "When was the duchy founded?"),
    ("It was rebuilt in the 12th century.", Slot.DATE, "When was it rebuilt?"),
    ("The treaty was signed in 1905.", Slot.DATE, "When was the treaty of 1905 signed?"),
    ("Some 575,000 Japanese were interned.", Slot.NUMBER, "How many Japanese were interned?"),
    ("Two ships sailed that spring.", Slot.NUMBER, "How many ships sailed?"),
    ("The fine was 300 yen.", Slot.MONEY, "How much was the fine?"),
    ("They paid 300 in cash.", Slot.MONEY, "How much did they pay?"),
    ('The ship was called "Koan Maru" by its crew.', Slot.NAME, "What was the ship called?"),
    ("Rollo led the Norsemen.", Slot.PERSON, "Who led the Norsemen?"),
]


@pytest.mark.parametrize(("sentence", "slot", "question"), SURFACE_CASES)
def test_surface_fillers_are_fillers_the_tagger_would_confirm(sentence, slot, question):
    """Evidence skips the tagger when surface forms settle a sentence: that must never say
    "filled" where the full check says not."""
    from rag.answering.fillers import surface_fillers

    surface = surface_fillers(sentence, slot, question)
    assert set(surface) <= set(fillers(annotate(sentence), slot, question))


def test_surface_fillers_settle_dates_and_numbers_but_not_names():
    from rag.answering.fillers import surface_fillers

    assert surface_fillers("The Duchy of Normandy began in 911.", Slot.DATE, "When was the duchy founded?")
    assert surface_fillers("Some 575,000 Japanese were interned.", Slot.NUMBER, "How many were interned?")
    assert not surface_fillers("They paid 300 in cash.", Slot.MONEY, "How much did they pay?"), "no currency"
    assert not surface_fillers("Rollo led the Norsemen.", Slot.PERSON, "Who led the Norsemen?"), "only the tagger knows names"
    assert not surface_fillers("The treaty was signed in 1905.", Slot.DATE, "When was the treaty of 1905 signed?")
