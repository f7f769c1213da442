"""rag.chain(): the answer chain as a LangChain Runnable, for composing in a user's own LCEL pipeline.

    from rag import chain
    answer = chain().invoke({"question": "How many Japanese were interned in the USSR?"})
    answers = chain().batch([{"question": q} for q in questions])
    for event in chain().stream({"question": "...", "history": ["..."], "k": 5, "filters": {"year_min": 1950}}):
        ...  # RetrievalEvent, TokenEvent(s), then AnswerEvent (event.answer is the Answer)

Why a Runnable of its own: the answer path is the Assistant's (rag.Assistant.stream), so the chain
and `ask` cannot drift apart; what the chain adds is LangChain's contract: callbacks and tracers see
the chain, its retrieval, the prompt and the LLM call as runs; `batch` and `stream` work.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import ensure_config, patch_config

from rag.events import AnswerEvent, StreamEvent
from rag.models import Answer
from rag.settings import Settings

if TYPE_CHECKING:
    from rag.assistant import Assistant


def _question(inp: Any) -> dict:
    """{"question", "history"?, "filters"?, "k"?}, or a bare question string."""
    if isinstance(inp, str):
        return {"question": inp}
    if not isinstance(inp, dict) or "question" not in inp:
        raise ValueError('input: expected {"question": ..., "history"?, "filters"?, "k"?} or a question string')
    extra = set(inp) - {"question", "history", "filters", "k"}
    if extra:
        raise ValueError(f"input: unknown field(s) {sorted(extra)}")
    return inp


class AnswerChain(Runnable[dict, Answer]):
    """The Assistant's answer path as a Runnable: invoke returns the Answer, stream its events."""

    name = "cadres_answer"

    def __init__(self, assistant: Assistant):
        self.assistant = assistant

    def _events(self, inp: dict, config: RunnableConfig | None = None, run_manager=None) -> Iterator[StreamEvent]:
        q = _question(inp)
        child = patch_config(config, callbacks=run_manager.get_child()) if run_manager else config
        yield from self.assistant.stream(
            q["question"], history=q.get("history"), k=q.get("k"), filters=q.get("filters"), config=ensure_config(child)
        )

    def _answer(self, inp: dict, run_manager=None, config: RunnableConfig | None = None) -> Answer:
        final = None
        for ev in self._events(inp, config, run_manager):
            if isinstance(ev, AnswerEvent):
                final = ev.answer
        if final is None:
            raise RuntimeError("the answer stream ended without an answer")
        return final

    def invoke(self, input: dict, config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        return self._call_with_config(self._answer, input, config, run_type="chain")

    def stream(self, input: dict, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[StreamEvent]:
        def transform(inputs: Iterator[dict], run_manager=None, config: RunnableConfig | None = None):
            for inp in inputs:
                yield from self._events(inp, config, run_manager)

        yield from self._transform_stream_with_config(iter([input]), transform, config, run_type="chain")


def chain(settings: Settings | None = None, *, assistant: Assistant | None = None) -> AnswerChain:
    """The answer chain over the store of `settings` (default: the CADRES_* environment)."""
    if assistant is None:
        from rag.assistant import Assistant

        assistant = Assistant(settings)
    return AnswerChain(assistant)
