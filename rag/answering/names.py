"""Multi-word names of a question, and whether the evidence holds them as names.

Why: a question that swaps one word of a name ("Clawshot Princess" for "Twilight Princess", "Eva
Moneypenny" for "Eve Moneypenny") finds the very passages of the true name, and every single word
of it may stand in them. What they do not hold is the name itself: its words side by side. Checked
over every retrieved passage (with its title and authors), stemmed and folded, so "the Chinese Communists"
matches "Chinese Communist Party"; titles and abbreviations ("Dr.", "Lt. Gen.") are not part of
the name, so "Dr. Swann" matches "Swann".
"""

from __future__ import annotations

from rag.answering.nlp import Annotated
from rag.text import lexical_tokens


def _is_name_word(text: str, pos: str, first: bool) -> bool:
    if not text[:1].isupper():
        return False  # a tagger's PROPN on a lowercase word ("forego manual") is no name
    return pos == "PROPN" or (not first and pos in ("NOUN", "ADJ", "X"))


def question_names(ann: Annotated) -> list[tuple[str, list[str]]]:
    """(surface, stemmed tokens) of each run of two or more capitalised proper nouns."""
    out: list[tuple[str, list[str]]] = []
    run: list[str] = []

    def close() -> None:
        toks = [t for w in run for t in lexical_tokens(w, keep_stopwords=True) if not _abbreviation(w) and len(t) > 1]
        if len(toks) >= 2:
            out.append((" ".join(w for w in run if not _abbreviation(w)), toks))
        run.clear()

    for i, t in enumerate(ann.tokens):
        if _is_name_word(t.text, t.pos, i == 0) or (run and t.text == "." and run[-1][-1:].isalpha() and len(run[-1]) <= 4):
            if t.text == ".":
                run[-1] += "."
            else:
                run.append(t.text)
            continue
        close()
    close()
    return out


def _abbreviation(word: str) -> bool:
    """Titles and ranks before a name: "Dr.", "Lt.", "Gen.", "Mr." (short and ending in a period)."""
    return word.endswith(".") and len(word) <= 5


def _has_run(tokens: list[str], run: list[str]) -> bool:
    n = len(run)
    return any(tokens[i:i + n] == run for i in range(len(tokens) - n + 1))


def missing_names(names: list[tuple[str, list[str]]], texts: list[str]) -> list[str]:
    """The names (as the question spells them) whose words stand side by side in none of the texts.
    Initials are read past on both sides: "James Brown" is "James D. J. Brown"."""
    if not names:
        return []
    streams = [[t for t in lexical_tokens(x, keep_stopwords=True) if len(t) > 1] for x in texts]
    return [surface for surface, run in names if not any(_has_run(s, run) for s in streams)]
