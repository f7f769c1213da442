"""What every route needs: the app's settings, the shared Assistant, and the question checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request

from rag.api.errors import ApiError
from rag.api.protocol import AssistantService
from rag.settings import Settings


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def qa_of(request: Request) -> AssistantService:
    return request.app.state.qa


def store_settings_of(request: Request) -> Settings:
    """The settings of the store the Assistant reads (ingest must write there)."""
    return qa_of(request).settings


def check_question(text: Any, settings: Settings, field: str = "question") -> str:
    """422 naming the field for an empty or too long question (the library checks again)."""
    if not isinstance(text, str) or not text.strip():
        raise ApiError(422, f"{field}: must not be empty", field=field)
    if len(text) > settings.max_question_chars:
        raise ApiError(
            422,
            f"{field}: longer than {settings.max_question_chars} characters (CADRES_MAX_QUESTION_CHARS); "
            f"got {len(text)}",
            field=field,
        )
    return text


def check_history(
    history: list[str] | None, settings: Settings, field: str = "history"
) -> list[str] | None:
    if not history:
        return None
    for i, h in enumerate(history):
        if len(h) > settings.max_question_chars:
            raise ApiError(
                422,
                f"{field}[{i}]: longer than {settings.max_question_chars} characters (CADRES_MAX_QUESTION_CHARS)",
                field=f"{field}[{i}]",
            )
    return history


def model_name(value: str) -> str:
    """A short name for the embedding model: never the server's full filesystem path."""
    p = Path(value)
    if p.is_absolute() or len(p.parts) > 2:
        return "/".join(p.parts[-2:])
    return value
