"""What Assistant.stream yields: the retrieval, then answer pieces, then the final Answer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from rag.models import Answer, Passage


class RetrievalEvent(BaseModel):
    type: Literal["retrieval"] = "retrieval"
    query: str
    passages: list[Passage]


class TokenEvent(BaseModel):
    type: Literal["token"] = "token"
    text: str


class AnswerEvent(BaseModel):
    type: Literal["answer"] = "answer"
    answer: Answer


StreamEvent = RetrievalEvent | TokenEvent | AnswerEvent
