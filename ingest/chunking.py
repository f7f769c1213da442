"""Token-aware chunking: sentence-aligned chunks that always fit the embedding model's window."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from rag.embedding import Embedder
from rag.text import Span, split_sentences


@dataclass
class Chunk:
    chunk_id: str
    index: int
    text: str
    page: int | None
    start: int  # offsets into the document's cleaned text
    end: int
    sentences: list[Span] = field(default_factory=list)  # offsets relative to `text`
    tokens: int = 0


def chunk_id_for(doc_id: str, index: int) -> str:
    return f"{doc_id}::{index:05d}"


def _split_long(span: Span, budget: int, embedder: Embedder) -> list[Span]:
    """A sentence longer than the window is cut between words (a piece starting mid-word would
    re-tokenise longer), at a word-piece boundary only when one word alone exceeds the budget."""
    offsets = embedder.token_offsets(span.text)
    text = span.text
    pieces, i = [], 0
    while i < len(offsets):
        j = min(i + budget, len(offsets))
        if j < len(offsets):
            k = j
            while k > i + 1 and not (offsets[k][0] > 0 and text[offsets[k][0] - 1].isspace()):
                k -= 1
            if k > i + 1:
                j = k
        s, e = offsets[i][0], offsets[j - 1][1]
        if j < len(offsets):  # prefer to cut at a space
            e = max(e, offsets[j][0])
        _add_piece(pieces, span, s, e)
        i = j
    return pieces


def _add_piece(pieces: list[Span], span: Span, s: int, e: int) -> None:
    """span.text[s:e] without its surrounding spaces, as a span of the document (if anything is left)."""
    seg = span.text[s:e]
    lead = len(seg) - len(seg.lstrip())
    seg = seg.strip()
    if seg:
        pieces.append(Span(span.start + s + lead, span.start + s + lead + len(seg), seg))


def _cut_chars(span: Span, limit: int) -> list[Span]:
    """A span of at most `limit` characters per piece, cut after the last space (or CJK sentence end)
    before the limit, hard only where there is none. Runs before tokenizing, so no tokenizer call
    ever sees more than `limit` characters of one sentence."""
    if len(span.text) <= limit:
        return [span]
    pieces, text, i = [], span.text, 0
    while i < len(text):
        j = min(i + limit, len(text))
        if j < len(text):
            k = max(text.rfind(" ", i + limit // 2, j), text.rfind("\u3002", i + limit // 2, j - 1) + 1)
            if k > i:
                j = k
        _add_piece(pieces, span, i, j)
        i = j
    return pieces


def chunk_pages(
    doc_text: str,
    pages: list[tuple[int | None, int, int]],
    doc_id: str,
    embedder: Embedder,
    size: int,
    overlap: int,
    reserve: int = 0,
    max_chars: int = 4000,
) -> list[Chunk]:
    """Chunks for a document whose cleaned text is `doc_text`; `pages` gives (page, start, end) ranges.

    `reserve` word pieces are kept free for the title prefix that is embedded with each chunk. A chunk
    is bounded in characters too (`max_chars`): text that tokenizes densely would otherwise make
    chunks no reader can take in.
    """
    budget = max(16, min(size, embedder.max_tokens - reserve))
    overlap = min(overlap, budget // 2)
    chunks: list[Chunk] = []
    for page, pstart, pend in pages:
        spans = [
            piece for sp in split_sentences(doc_text[pstart:pend], offset=pstart) for piece in _cut_chars(sp, max_chars)
        ]
        counts = embedder.count_tokens([s.text for s in spans])
        units: list[tuple[Span, int]] = []
        for sp, n in zip(spans, counts, strict=True):
            if n <= budget:
                units.append((sp, n))
            else:
                for piece in _split_long(sp, budget, embedder):
                    units.append((piece, embedder.count_tokens([piece.text])[0]))
        i = 0
        while i < len(units):
            j, total = i, 0
            while (
                j < len(units)
                and total + units[j][1] <= budget
                and units[j][0].end - units[i][0].start <= max_chars
            ):
                total += units[j][1]
                j += 1
            j = max(j, i + 1)
            group = units[i:j]
            chunks.append(_make_chunk(doc_text, doc_id, len(chunks), page, [u[0] for u in group]))
            if j >= len(units):
                break
            # Start the next chunk with trailing sentences worth at most `overlap` tokens.
            back, k = 0, j
            while k - 1 > i and back + units[k - 1][1] <= overlap:
                back += units[k - 1][1]
                k -= 1
            i = k
    # Guarantee the window: measure the final texts once, and split any chunk that grew.
    final: list[Chunk] = []
    for c, n in zip(chunks, embedder.count_tokens([c.text for c in chunks]), strict=True):
        if n <= budget:
            c.tokens = n
            final.append(c)
            continue
        whole = Span(c.start, c.end, c.text)
        for piece in _split_long(whole, max(8, budget - 8), embedder):
            part = _make_chunk(doc_text, doc_id, 0, c.page, [piece])
            part.tokens = embedder.count_tokens([part.text])[0]
            final.append(part)
    for i, c in enumerate(final):
        c.index, c.chunk_id = i, chunk_id_for(doc_id, i)
    return final


def _make_chunk(doc_text: str, doc_id: str, index: int, page: int | None, spans: list[Span]) -> Chunk:
    start, end = spans[0].start, spans[-1].end
    text = doc_text[start:end]
    rel = [Span(s.start - start, s.end - start, s.text) for s in spans]
    return Chunk(chunk_id_for(doc_id, index), index, text, page, start, end, rel)


def content_hash(data: bytes, extra: str = "") -> str:
    h = hashlib.sha256(data)
    h.update(extra.encode())
    return h.hexdigest()
