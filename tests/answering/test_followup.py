"""Follow-ups by meaning: only a question that leans on the conversation borrows its topic."""

from __future__ import annotations

import pytest

from rag.answering.followup import combine_turns, follow_up_alone, is_follow_up


@pytest.mark.parametrize(
    "question",
    [
        "And in China?",
        "What about the officers?",
        "When did they return?",
        "And why did the Chinese Communists value them?",
        "When did he die?",
        "Why?",
        "How many died?",
        "What did this treaty establish?",
    ],
)
def test_leaning_questions_are_follow_ups(question):
    assert is_follow_up(question)


@pytest.mark.parametrize(
    "question",
    [
        "What happened to the Koan Maru?",
        "In what country is Normandy located?",
        "Who was Rollo?",
        "When was the Duchy of Normandy founded?",
        "How did Soviet and Chinese Communist treatment of the Japanese differ?",
        "What did Rollo do after he became duke?",
        "Which archives did King and Muminov use?",
    ],
)
def test_standalone_questions_are_not(question):
    assert not is_follow_up(question)


def test_combine_turns():
    h = ["How many were interned in the USSR?"]
    assert combine_turns("And in China?", h) == "How many were interned in the USSR? And in China?"
    assert combine_turns("And in China?", []) == "And in China?"
    assert combine_turns("And in China?", None) == "And in China?"
    assert combine_turns("And in China?", ["", "  "]) == "And in China?"
    assert combine_turns("And in China?", ["  padded earlier question?  "]) == "padded earlier question? And in China?"
    # A short standalone question after an unrelated one is searched as it stands.
    assert combine_turns("What happened to the Koan Maru?", ["In what country is Normandy located?"]) == (
        "What happened to the Koan Maru?"
    )
    assert follow_up_alone("What happened to the Koan Maru?", ["Where is Normandy?"]) == ()
    assert follow_up_alone("And in China?", h) == ("And in China?",)
