"""rag.answering.numbers: a question's numbers read as what they stand for, in any range."""

from __future__ import annotations

import pytest

from rag.answering.numbers import missing, question_numbers


@pytest.mark.parametrize(
    "question, window, lacking",
    [
        ("When was the Duchy founded in 911?", "The duchy began in 911 under Rollo.", []),
        ("What did Stalin and Mao negotiate in 1949–50?", "Talks ran from 1949 to 1950 in Moscow.", []),
        ("How did the war of 1904-05 end?", "The treaty ended the war on 5 September 1905.", []),
        ("What did the Crusaders build in the 1120s?", "In 1123 the Crusaders built a cathedral.", []),
        ("Who ruled in the 10th century?", "By 950 the counts ruled the coast.", []),
        ("Who ruled in the 10th century?", "In the 10th century the counts ruled.", []),
        ("How many of the 1,500 prisoners were freed?", "Of 1500 prisoners, twelve were freed.", []),
        ("Were 12 ships lost?", "Twelve ships were lost.", []),
        ("Why was repatriation suspended in December 1949?", "Repatriation was suspended on 1 December 1947.", ["1949"]),
        ("What happened in the 1960s?", "In 1956 and 1971 the talks resumed.", ["1960s"]),
        ("Who ruled in the 12th century?", "By 950 the counts ruled the coast.", ["12th century"]),
        ("How many of the 3.5 million were counted?", "About 3.4 million were counted.", ["3.5"]),
        # Numbers written in words, in the question or the text, are read as numbers.
        ("Which animal weighs up to one hundred and ninety tonnes?", "The blue whale weighs up to 190 tonnes.", []),
        ("Did Nicephorus pay 1,500 pounds of gold?", "A gift of fifteen hundred pounds of gold was laid at his feet.", []),
        ("Were there twenty-four preludes?", "He wrote 24 preludes.", []),
        ("Did the Croats muster sixty thousand horse?", "Their forces were numbered at 60,000 horse.", []),
        ("Were there twenty-three preludes?", "He wrote 24 preludes.", ["twenty-three"]),
        ("Was he one of the first to sail?", "He sailed in 1949.", []),  # a lone "one" is a word
        ("What is the name of the thirty-fourth film?", "The twenty-fourth film was released.", []),  # ordinals
        ("Which three frigates attacked the citadel?", "Frigates Pique, Hazard and Benbow attacked.", []),
        ("What are the three main activities?", "It mixes combat, exploration and collection.", []),
        ("Which town had more than ten inches of rain?", "Downingtown had 10.10 inches of rain.", []),
        ("Did about 500 men die?", "Some 480 men died.", []),
        ("Did about 500 men die?", "Some 300 men died.", ["500"]),
        ("What killed thirteen people?", "Falling trees killed 12 people.", ["thirteen"]),
    ],
)
def test_numbers_held_or_missing(question, window, lacking):
    assert missing(question_numbers(question), [window]) == lacking


def test_a_number_held_by_any_window_counts_as_held():
    q = question_numbers("What did the 1953 communiqué provide for?")
    assert missing(q, ["Talks in 1952.", "The communiqué of 19 November 1953 provided for returns."]) == []


def test_a_question_without_numbers_has_nothing_missing():
    assert question_numbers("Who led the uprising?") == []
