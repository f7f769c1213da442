"""Request and response bodies of the HTTP API (the Answer itself is rag.models.Answer)."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from rag.checks import K_MAX, K_MIN
from rag.models import Citation, DocumentMeta, FileFailure, IngestReport

MODEL_ID = "cadres-qa"
MAX_HISTORY = 50


def _k_in_range(k: int) -> int:
    # A custom check rather than ge/le: the 422 then says the whole range ("k: must be between 1 and 50").
    if not K_MIN <= k <= K_MAX:
        raise PydanticCustomError(
            "k_range", "must be between {lo} and {hi} (passages to retrieve), got {k}", {"lo": K_MIN, "hi": K_MAX, "k": k}
        )
    return k


PassageCount = Annotated[
    int, AfterValidator(_k_in_range), WithJsonSchema({"type": "integer", "minimum": K_MIN, "maximum": K_MAX})
]


class FiltersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc_ids: list[str] | None = Field(
        None, description="Only these documents (doc_id values from /v1/documents)."
    )
    year_min: int | None = Field(None, description="Only sources published in or after this year.")
    year_max: int | None = Field(None, description="Only sources published in or before this year.")


class AskRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"question": "Where were Japanese war criminals detained in China?"},
                {
                    "question": "And when were they released?",
                    "history": ["Where were Japanese war criminals detained in China?"],
                    "k": 5,
                    "filters": {"year_min": 2000},
                },
            ]
        },
    )

    question: str = Field(
        ..., description="The question (non-empty; at most CADRES_MAX_QUESTION_CHARS characters)."
    )
    history: list[str] | None = Field(
        None,
        max_length=MAX_HISTORY,
        description="Earlier questions of the conversation, oldest first.",
    )
    k: PassageCount | None = Field(None, description="Passages to retrieve, 1-50 (default CADRES_TOP_K).")
    filters: FiltersIn | None = None

    def filters_dict(self) -> dict | None:
        return self.filters.model_dump(exclude_none=True) if self.filters else None


# ---------------------------------------------------------------- health, documents
class Health(BaseModel):
    status: Literal["ok", "empty"] = Field(..., description="`empty` when nothing is ingested yet.")
    documents: int
    chunks: int
    last_ingest: float | None = Field(
        None, description="Unix time of the last change to the store."
    )
    embedding_model: str
    embedding_fingerprint: str | None = None
    answer_mode: str
    store: Literal["embedded", "server"]
    warm: bool = Field(
        ..., description="The startup warm-up (model and lexical index loaded) has finished."
    )


class HealthDown(BaseModel):
    status: Literal["unavailable"] = "unavailable"
    error: dict[str, Any]


class DocumentInfo(DocumentMeta):
    model_config = ConfigDict(extra="allow")

    source: str | None = Field(None, description="The ingested file's path on the server.")
    chunks: int = 0
    ingested_at: float | None = None


class DocumentList(BaseModel):
    count: int
    documents: list[DocumentInfo]


# ---------------------------------------------------------------- ingest
class IngestPaths(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paths: list[str] = Field(
        ...,
        min_length=1,
        max_length=1000,
        description="Files or folders under CADRES_DATA_DIR (relative paths are taken from there).",
    )


class IngestOut(IngestReport):
    """The IngestReport (files_failed lists files refused or unreadable, with the reason)."""


# ---------------------------------------------------------------- OpenAI-compatible
class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str = Field(..., description="system | user | assistant | tool | developer")
    content: str | list[dict[str, Any]] | None = Field(
        None, description="Text, or a list of content parts ({type: text, text})."
    )


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatRequest(BaseModel):
    """The OpenAI chat request; unknown OpenAI parameters (temperature, max_tokens, ...) are ignored."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "model": MODEL_ID,
                    "messages": [
                        {
                            "role": "user",
                            "content": "Where were Japanese war criminals detained in China?",
                        }
                    ],
                }
            ]
        },
    )

    model: str = Field(
        MODEL_ID, description=f"Any value is accepted; answers come from {MODEL_ID!r}."
    )
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=200)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    k: PassageCount | None = Field(None, description="cadres-qa extension: passages to retrieve, 1-50.")
    filters: FiltersIn | None = Field(None, description="cadres-qa extension: retrieval filters.")


class ChatResponseMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int = 0
    message: ChatResponseMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(default_factory=lambda: int(time.time()))
    model: str = MODEL_ID
    choices: list[ChatChoice]
    usage: Usage
    citations: list[Citation] = Field(
        default_factory=list, description="cadres-qa extension: the cited passages."
    )
    refused: bool = Field(
        False, description="cadres-qa extension: true when the corpus does not answer."
    )


class ModelCard(BaseModel):
    id: str = MODEL_ID
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "cadres-qa"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


__all__ = [
    "AskRequest",
    "ChatCompletion",
    "ChatRequest",
    "DocumentInfo",
    "DocumentList",
    "FileFailure",
    "FiltersIn",
    "Health",
    "HealthDown",
    "IngestOut",
    "IngestPaths",
    "ModelList",
]
