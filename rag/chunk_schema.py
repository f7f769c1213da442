"""The layout of a chunk's metadata in the store: written by ingest, read by retrieval and the
answerers, defined here once.

Why one module: the fields were written in ingest/pipeline.py and unpacked by hand in several
readers (authors joined with "; " there, split again in three places). Chroma metadata values are
scalars, so lists are stored joined and read back as lists only through these functions.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from rag.models import DocumentMeta

_AUTHOR_SEP = "; "
# The sentence vectors of a chunk (float32, one row per sentence span, base64) travel with the chunk:
# the extractive answerer reads them from the same query that found the chunk, and ingest writes no
# second collection (which cost an HNSW insert per sentence and a second round trip per question).
SENTENCE_VECTORS = "sentence_vectors"
_OPTIONAL = ("year", "container", "volume", "issue", "pages", "url", "doi")


def chunk_metadata(
    meta: DocumentMeta,
    source: str,
    *,
    index: int,
    start: int,
    end: int,
    tokens: int,
    sentence_spans: Sequence[tuple[int, int]],
    content_hash: str,
    page: int | None = None,
    ocr_confidence: float | None = None,
) -> dict[str, Any]:
    """One chunk's metadata row. `start`/`end`: offsets in the document's cleaned text;
    `sentence_spans`: the chunk's sentences as offsets into the chunk's own text (their vectors
    are added by put_sentence_vectors when the store writes the chunk)."""
    m: dict[str, Any] = {
        "doc_id": meta.doc_id,
        "source": source,
        "chunk_index": index,
        "char_start": start,
        "char_end": end,
        "title": meta.title,
        "authors": _AUTHOR_SEP.join(meta.authors),
        "source_type": meta.source_type,
        "content_hash": content_hash,
        "tokens": tokens,
        "sentences": json.dumps([[int(a), int(b)] for a, b in sentence_spans]),
    }
    for f in _OPTIONAL:
        v = getattr(meta, f)
        if v is not None:
            m[f] = v
    if page is not None:
        m["page"] = page
        if ocr_confidence is not None:
            m["ocr_confidence"] = round(ocr_confidence, 1)
    return m


def document_meta_of(metadata: Mapping[str, Any]) -> DocumentMeta:
    """The document's record a chunk carries: the inverse of chunk_metadata's record fields."""
    doc_id = str(metadata.get("doc_id") or "")
    fields: dict[str, Any] = {
        "doc_id": doc_id,
        "title": metadata.get("title") or doc_id,
        "authors": authors_of(metadata),
    }
    if metadata.get("source_type"):
        fields["source_type"] = metadata["source_type"]
    for f in _OPTIONAL:
        v = metadata.get(f)
        if v not in (None, ""):
            fields[f] = v if f == "year" else str(v)  # another writer may have stored a volume as 24
    return DocumentMeta.model_validate(fields)


def authors_of(metadata: Mapping[str, Any]) -> list[str]:
    """The chunk's authors as a list (stored joined)."""
    return [a for a in str(metadata.get("authors") or "").split(_AUTHOR_SEP) if a]


def sentence_spans_of(metadata: Mapping[str, Any]) -> list[tuple[int, int]]:
    try:
        return [(int(a), int(b)) for a, b in json.loads(str(metadata.get("sentences") or "[]"))]
    except (ValueError, TypeError):
        return []


def put_sentence_vectors(metadata: Mapping[str, Any], vectors: np.ndarray | None) -> dict[str, Any]:
    """The metadata row with the chunk's sentence vectors (one row per span) added."""
    out = dict(metadata)
    if vectors is not None and len(vectors):
        out[SENTENCE_VECTORS] = base64.b64encode(np.ascontiguousarray(vectors, dtype="<f4").tobytes()).decode()
    return out


def decode_sentence_vectors(raw: str | None, metadata: Mapping[str, Any]) -> np.ndarray | None:
    """The stored (base64) sentence vectors of a chunk whose metadata is `metadata`, one row per
    span of sentence_spans_of; None when it has none (a chunk stored before they were kept with it)."""
    n = len(sentence_spans_of(metadata))
    if not raw or not n:
        return None
    flat = np.frombuffer(base64.b64decode(raw), dtype="<f4")
    if flat.size % n:
        return None
    return flat.reshape(n, -1).astype(np.float32)
