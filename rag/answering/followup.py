"""Follow-up questions: only a question that leans on the earlier turns borrows their topic.

A question leans on the conversation when it opens elliptically ("And in China?", "What about the
officers?", "Why?") or holds a pronoun or demonstrative with nothing in the question to refer to
("When did he die?", "Why did the Chinese Communists value them?"). Length says nothing: a short
standalone question after an unrelated one must get the answer it gets in a fresh chat.
"""

from __future__ import annotations

import re

from rag.answering.nlp import annotate

_ELLIPTIC_START = re.compile(
    r"^\s*(and|but|also|then|so|or|what about|how about|what of|what else|and what|and why|and how|and when|"
    r"and where|and who|same for|likewise|how come|why( not)?\s*\??\s*$|when\s*\??\s*$|where\s*\??\s*$|"
    r"how\s*\??\s*$|who\s*\??\s*$|in what way\s*\??\s*$)\b",
    re.I,
)
_PRONOUNS = frozenset(["it", "its", "they", "them", "their", "theirs", "he", "him", "his", "she", "her", "hers", "itself", "themselves", "himself", "herself"])
_DEMONSTRATIVES = frozenset(["this", "that", "these", "those"])


def is_follow_up(question: str) -> bool:
    if _ELLIPTIC_START.search(question):
        return True
    ann = annotate(question)
    toks = ann.tokens
    seen_noun = False
    for i, t in enumerate(toks):
        w = t.text.lower()
        if t.pos in ("PROPN", "NOUN") and i > 0:
            seen_noun = True
        if w in _PRONOUNS and t.tag in ("PRP", "PRP$") and not seen_noun:
            return True
        if w in _DEMONSTRATIVES and t.tag == "DT" and not seen_noun:
            # "this treaty", "those camps", "that?" : pointing back at the conversation
            return True
    # No noun at all ("How many died?", "Why not?"): the subject is in the conversation.
    return not any(t.pos in ("NOUN", "PROPN") for t in toks)


def combine_turns(question: str, history: list[str] | None) -> str:
    """The retrieval query: the last earlier question carries the topic of a follow-up; any other
    question is searched as it stands."""
    history = [h.strip() for h in (history or []) if h and h.strip()]
    if not history or not is_follow_up(question):
        return question
    return f"{history[-1]} {question}"


REWRITE_PROMPT = (
    "Rewrite the user's last question so that it can be understood without the conversation. "
    "Keep names, places and dates. Reply with the rewritten question only.\n\n"
    "Earlier questions:\n{history}\n\nLast question: {question}\nRewritten question:"
)


def follow_up_alone(question: str, history: list[str] | None) -> tuple[str, ...]:
    """A follow-up is also searched on its own: the earlier question gives the topic but must not
    drown the new focus ("And in China?")."""
    if not history or combine_turns(question, history) == question:
        return ()
    return (question,)
