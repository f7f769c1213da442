"""Retrieval filters (doc_id, year range), expressed once for Chroma and once for the lexical index."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator


class Filters(BaseModel):
    doc_ids: list[str] | None = Field(None, description="Only these documents.")
    year_min: int | None = None
    year_max: int | None = None

    @field_validator("doc_ids", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        if v is None or v == []:
            return None
        return [v] if isinstance(v, str) else list(v)

    @classmethod
    def coerce(cls, value: Filters | dict | None) -> Filters | None:
        if value is None:
            return None
        if isinstance(value, Filters):
            return value
        data = dict(value)
        if "doc_id" in data and "doc_ids" not in data:
            data["doc_ids"] = data.pop("doc_id")
        return cls(**data)

    def is_empty(self) -> bool:
        return not self.doc_ids and self.year_min is None and self.year_max is None

    def chroma_where(self) -> dict[str, Any] | None:
        parts: list[dict] = []
        if self.doc_ids:
            parts.append({"doc_id": {"$in": self.doc_ids}})
        if self.year_min is not None:
            parts.append({"year": {"$gte": self.year_min}})
        if self.year_max is not None:
            parts.append({"year": {"$lte": self.year_max}})
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else {"$and": parts}

    def accepts(self, doc_id: str, year: int | None) -> bool:
        if self.doc_ids and doc_id not in self.doc_ids:
            return False
        if self.year_min is not None and (year is None or year < self.year_min):
            return False
        return not (self.year_max is not None and (year is None or year > self.year_max))
