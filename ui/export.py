"""The conversation as a Markdown file: questions, answers, numbered sources, a Chicago bibliography.

The bibliography holds the same full references as the source cards (rag.citing.reference).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from rag.citing import bibliography
from rag.models import Answer, Citation
from rag.safety import plain_text
from ui.rendering import refusal_text


def _inert(text: str | None) -> str:
    """Document/model text made inert for any Markdown viewer the file is opened in."""
    t = plain_text(str(text or ""))
    # An inert line must not become a heading, a quote block or a table in the exported file.
    return " ".join(t.split()).replace("|", "\u2223").lstrip("#> ")


def answer_markdown_section(n: int, answer: Answer) -> str:
    lines = [f"## {n}. {_inert(answer.question)}", ""]
    if answer.refused:
        lines.append(f"> **Not answered by the corpus.** {_inert(refusal_text(answer))}")
        if answer.closest_sources:
            lines += ["", "Closest sources:", ""]
            lines += [f"- {_inert(s)}" for s in answer.closest_sources]
    else:
        lines.append(_inert(answer.answer))
    if answer.citations:
        lines += ["", "**Sources**", ""]
        for c in answer.citations:
            lines.append(f"{c.n}. {_inert(c.label)} \u2014 *{_inert(c.title)}*: \u201c{_inert(c.quote)}\u201d")
    if answer.unsupported:
        lines += ["", "Removed as unsupported by the cited passages: " + " | ".join(_inert(u) for u in answer.unsupported)]
    return "\n".join(lines)


def conversation_markdown(
    answers: Iterable[Answer],
    *,
    title: str = "cadres-qa conversation",
    now: datetime | None = None,
) -> str:
    """Every answered question in order, then "## Bibliography" (Chicago author-date) at the end."""
    answers = list(answers)
    when = (now or datetime.now()).strftime("%Y-%m-%d %H:%M")
    parts = [f"# {title}", "", f"Exported {when}. {len(answers)} question(s).", ""]
    cited: list[Citation] = []
    for i, a in enumerate(answers, 1):
        parts += [answer_markdown_section(i, a), ""]
        cited.extend(a.citations)
    parts += ["## Bibliography", ""]
    entries = bibliography(cited)  # full Chicago references, one a document, links only if safe
    for e in entries:
        parts += [_inert_entry(e), ""]
    if not entries:
        parts.append("No sources were cited.")
    return "\n".join(parts).rstrip() + "\n"


def _inert_entry(entry: str) -> str:
    """One line per entry. reference() has already made every document-supplied character literal
    and kept only a safe http(s) address, so nothing more is stripped (that would undo its escapes)."""
    return " ".join(entry.split())


def export_filename(now: datetime | None = None) -> str:
    return f"cadres-qa-{(now or datetime.now()).strftime('%Y%m%d-%H%M')}.md"
