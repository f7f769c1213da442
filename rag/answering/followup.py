"""Follow-up questions: the retrieval query is rewritten from the earlier turns."""

from __future__ import annotations

import re

_ELLIPTIC = re.compile(
    r"^(and|but|what about|how about|what of|also|then|so)\b|\b(it|its|they|them|their|this|that|these|those|he|she|his|her|there)\b",
    re.I,
)


def combine_turns(question: str, history: list[str] | None) -> str:
    """Extractive mode: the last earlier question carries the topic, the new one the focus.

    A question that stands on its own (long, no pronoun, no "and ...") is left as it is, so a change
    of subject is not dragged back to the old one.
    """
    history = [h.strip() for h in (history or []) if h and h.strip()]
    if not history:
        return question
    if len(question.split()) > 12 and not _ELLIPTIC.search(question):
        return question
    return f"{history[-1]} {question}"


REWRITE_PROMPT = (
    "Rewrite the user's last question so that it can be understood without the conversation. "
    "Keep names, places and dates. Reply with the rewritten question only.\n\n"
    "Earlier questions:\n{history}\n\nLast question: {question}\nRewritten question:"
)


def follow_up_alone(question: str, history: list[str] | None) -> tuple[str, ...]:
    """An elliptic follow-up ("And in China?") is also searched on its own: the earlier question
    gives the topic but must not drown the new focus."""
    if not history or combine_turns(question, history) == question:
        return ()
    return (question,)
