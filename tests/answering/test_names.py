"""Multi-word names of a question and whether a passage holds them side by side (real tagger)."""

from __future__ import annotations

import pytest

from rag.answering.names import missing_names, question_names
from rag.answering.nlp import annotate

PASSAGE = (
    "The Legend of Zelda: Twilight Princess was published by Nintendo. The Chinese Communist Party "
    "kept Japanese doctors. A review by James D. J. Brown appeared in 2024. Bond rescues Dr. Madeleine Swann. Lt. Gen. Suzuki Keiku was tried at Shenyang."
)


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("What genre of games is Clawshot Princess?", ["Clawshot Princess"]),  # a swapped word of a name
        ("Who published Twilight Princess?", []),
        ("Why did the Chinese Communists keep Japanese doctors?", []),  # stemmed: Communists ~ Communist
        ("What sentence did Lt. Gen. Suzuki Keiku receive?", []),  # ranks are not part of the name
        ("Who kidnaps Dr. Swann?", []),  # one word left once the title goes: no multi-word name
        ("What control allows the player to forego manual targeting?", []),  # lowercase words are no name
        ("When did Eva Moneypenny return?", ["Eva Moneypenny"]),
        ("What did James D. J. Brown's review say?", []),  # initials are read past on both sides
        ("What did James Brown's review say?", []),
    ],
)
def test_a_name_counts_only_with_its_words_side_by_side(question, missing):
    assert missing_names(question_names(annotate(question)), [PASSAGE]) == missing


def test_a_question_without_names_never_misses_one():
    assert missing_names(question_names(annotate("How many prisoners died in the camps?")), []) == []
