"""Ingestion: documents in, chunks embedded into Chroma out."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.pipeline import IngestFatal, ingest_paths

__all__ = ["ingest_paths", "IngestFatal"]


def __getattr__(name: str):
    # Lazy: importing the package must not load chromadb or torch.
    if name in __all__:
        from ingest import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
