"""cadres-qa: cited answers over a scholarly corpus. Heavy parts load on first use, not at import."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.models import Answer, Citation, DocumentMeta, IngestReport, Passage
from rag.settings import Settings, get_settings

if TYPE_CHECKING:
    from rag.answer_chain import chain
    from rag.assistant import Assistant
    from rag.evaluation import EvalReport, evaluate

__all__ = [
    "Answer",
    "Assistant",
    "Citation",
    "DocumentMeta",
    "EvalReport",
    "IngestReport",
    "Passage",
    "Settings",
    "chain",
    "evaluate",
    "get_settings",
]


def __getattr__(name: str):
    if name == "Assistant":
        from rag.assistant import Assistant

        return Assistant
    if name == "chain":
        from rag.answer_chain import chain

        return chain
    if name in ("evaluate", "EvalReport"):
        from rag import evaluation

        return getattr(evaluation, name)
    raise AttributeError(name)
