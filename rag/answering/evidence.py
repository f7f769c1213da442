"""Candidate sentences of the retrieved passages, with the vectors embedded at ingest."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.models import Passage
from rag.safety import has_markup
from rag.store import Store

_URL = re.compile(r"https?://|www\.|<[a-z]+://")
_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*$")


@dataclass
class Sentence:
    text: str
    passage: int  # index into the retrieval's passages
    start: int  # offsets within the passage text
    end: int
    vec: np.ndarray

    @property
    def display(self) -> str:
        """The sentence without a list bullet: still a verbatim substring of its chunk."""
        return self.text[2:] if self.text.startswith("- ") else self.text


def is_prose(text: str) -> bool:
    """Headings, reference-list lines and fragments make poor answers."""
    words = text.split()
    if len(words) < 5 or _URL.search(text) or has_markup(text) or text.rstrip().endswith("?"):
        return False  # a question (often a heading) answers nothing
    return bool(_END.search(text.strip())) or len(words) > 14


def gather(store: Store, passages: list[Passage]) -> list[Sentence]:
    if not passages:
        return []
    pos = {p.chunk_id: i for i, p in enumerate(passages)}
    got = store.sentences().get(
        where={"chunk_id": {"$in": list(pos)}}, include=["documents", "metadatas", "embeddings"]
    )
    out = []
    for text, meta, vec in zip(got["documents"], got["metadatas"], got["embeddings"], strict=True):
        i = pos.get(meta["chunk_id"])
        if i is None or not is_prose(text):
            continue
        out.append(Sentence(text, i, int(meta["start"]), int(meta["end"]), np.asarray(vec, dtype=np.float32)))
    out.sort(key=lambda s: (s.passage, s.start))
    return out
