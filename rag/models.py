"""Typed results that cross module lines."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from rag.citing import author_date


class DocumentMeta(BaseModel):
    """Bibliographic record of one source, carried on every chunk for citations."""

    doc_id: str
    title: str
    authors: list[str] = Field(default_factory=list)
    year: int | None = None
    container: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    url: str | None = None
    doi: str | None = None
    source_type: str = "document"
    themes: list[str] = Field(default_factory=list)


class Passage(BaseModel):
    chunk_id: str
    doc_id: str
    text: str
    page: int | None = None
    score: float = 0.0
    metadata: dict[str, Any] = Field(default_factory=dict)


class Citation(BaseModel):
    n: int
    doc_id: str
    chunk_id: str
    title: str
    authors: list[str] = Field(default_factory=list)
    year: int | None = None
    page: int | None = None
    quote: str
    quotes: list[str] = Field(default_factory=list, description="Every sentence the answer quoted from this passage, verbatim.")
    score: float = 0.0
    container: str | None = None
    volume: str | None = Field(None, description="Volume of the journal (or series) the source appeared in.")
    issue: str | None = Field(None, description="Issue number within the volume.")
    pages: str | None = Field(None, description="The source's own page range, such as \"200\u2013230\" (not the cited page).")
    doi: str | None = Field(None, description="DOI without its resolver, such as \"10.1162/jcws_a_01083\".")
    source_type: str | None = Field(None, description="What the source is, as its metadata says: \"journal article\", \"web page\", \"book chapter\".")
    url: str | None = None
    ocr: bool = Field(False, description="The cited page's text was read by OCR from a scan and may hold misreadings.")

    @property
    def label(self) -> str:
        """Author-date label such as "King and Muminov 2022, p. 203"."""
        return author_date(self.authors, self.year, self.page, self.title)


class Answer(BaseModel):
    question: str
    answer: str
    citations: list[Citation] = Field(default_factory=list)
    refused: bool = False
    mode: Literal["extractive", "llm"] = "extractive"
    timings_ms: dict[str, float] = Field(default_factory=dict)
    unsupported: list[str] = Field(default_factory=list, description="Sentences whose citations failed the check.")
    query: str | None = Field(None, description="The retrieval query, after follow-up rewriting.")
    closest_sources: list[str] = Field(default_factory=list)


class FileFailure(BaseModel):
    path: str
    error: str


class FileWarning(BaseModel):
    """A file that went in, but with something its owner should check (a guessed encoding, a poor OCR page)."""

    path: str
    warning: str


class IngestReport(BaseModel):
    files_seen: int = 0
    files_added: int = 0
    files_updated: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    files_failed: list[FileFailure] = Field(default_factory=list)
    warnings: list[FileWarning] = Field(default_factory=list)
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_total: int = 0
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return 2 if self.files_failed else 0
