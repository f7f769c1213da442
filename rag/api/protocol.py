"""What the HTTP API needs of an Assistant, as a typed protocol: the routes call only these, so a
test can inject its own implementation and a type checker sees every call the API makes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from rag.events import StreamEvent
from rag.models import Answer
from rag.retrieval.filters import Filters
from rag.settings import Settings


@runtime_checkable
class AssistantService(Protocol):
    settings: Settings  # names the store the API reads and ingest writes

    @property
    def mode(self) -> str:
        """"extractive" or "llm"."""
        ...

    def ask(
        self, question: str, history: list[str] | None = None, k: int | None = None, filters: Filters | dict | None = None
    ) -> Answer: ...

    def stream(
        self, question: str, history: list[str] | None = None, k: int | None = None, filters: Filters | dict | None = None
    ) -> Iterator[StreamEvent]: ...

    def documents(self) -> list[dict]: ...

    def status(self) -> dict: ...

    def warm_up(self) -> None:
        """Load the model and indexes before the first question."""
        ...
