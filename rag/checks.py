"""Checks every front end makes of a request before any work (the question and its k): one module
without dependencies, so the Assistant, the retriever, the API schemas and the CLI share them
without importing each other."""

from __future__ import annotations

K_MIN, K_MAX = 1, 50  # passages per question: CADRES_TOP_K's range, and every front end's


class QuestionError(ValueError):
    """A bad question; the message names the field and the reason."""


def check_k(k) -> int | None:
    """`k` as given (None: the default), or QuestionError naming k and its range: 0 is an error,
    never a silent "use the default"."""
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, int):
        raise QuestionError(f"k: must be a whole number from {K_MIN} to {K_MAX}, got {k!r}")
    if not K_MIN <= k <= K_MAX:
        raise QuestionError(f"k: must be between {K_MIN} and {K_MAX}, got {k}")
    return k


def check_question(question, max_chars: int) -> str:
    """The question stripped, or QuestionError naming it: empty, not text, or over max_chars."""
    if not isinstance(question, str) or not question.strip():
        raise QuestionError("question: must not be empty")
    if len(question) > max_chars:
        raise QuestionError(f"question: longer than {max_chars} characters")
    return question.strip()
