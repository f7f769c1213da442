"""rag.chain() (rag/answer_chain.py): the answer path as a LangChain Runnable, composed in a user's own LCEL pipeline."""

from __future__ import annotations

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

QUESTION = "How many Japanese were interned in the Soviet Union?"


class Recorder(BaseCallbackHandler):
    def __init__(self):
        self.starts: list[str] = []
        self.ends = 0

    def on_chain_start(self, serialized, inputs, *, name=None, **kw):
        self.starts.append(name or "")

    def on_chain_end(self, outputs, **kw):
        self.ends += 1


def test_invoke_returns_the_same_answer_as_ask(assistant):
    from rag import Answer, chain

    got = chain(assistant=assistant).invoke({"question": QUESTION})
    assert isinstance(got, Answer) and not got.refused
    assert got.answer == assistant.ask(QUESTION).answer


def test_composed_in_lcel_with_callbacks_and_batch(assistant):
    from rag import chain

    pipeline = (
        RunnablePassthrough.assign(question=lambda d: d["topic"].strip() + "?")
        | RunnableLambda(lambda d: {"question": d["question"], "k": 3})
        | chain(assistant=assistant)
        | RunnableLambda(lambda a: {"text": a.answer, "sources": [c.doc_id for c in a.citations]})
    )
    rec = Recorder()
    out = pipeline.invoke({"topic": "  How many Japanese were interned in the Soviet Union "}, config={"callbacks": [rec]})
    assert out["sources"] and "[1]" in out["text"]
    assert "cadres_answer" in rec.starts and "cadres_retrieve" in rec.starts  # the tracer sees the retrieval
    assert rec.ends >= len(rec.starts) - 1
    answers = chain(assistant=assistant).batch([{"question": QUESTION}, "What happened to the Koan Maru?"])
    assert len(answers) == 2 and all(a.answer for a in answers)


def test_stream_yields_the_events_ending_with_the_answer(assistant):
    from rag import chain
    from rag.events import AnswerEvent, RetrievalEvent

    events = list(chain(assistant=assistant).stream({"question": QUESTION, "history": [], "filters": None}))
    assert isinstance(events[0], RetrievalEvent) and isinstance(events[-1], AnswerEvent)


def test_bad_input_names_the_field(assistant):
    from rag import chain

    with pytest.raises(ValueError, match="unknown field"):
        chain(assistant=assistant).invoke({"question": QUESTION, "topk": 3})
    with pytest.raises(ValueError, match="question: must not be empty"):
        chain(assistant=assistant).invoke({"question": "  "})
