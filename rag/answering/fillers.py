"""Fillers: things of the kind a question asks for (a date, a count, a person, a place) that a
sentence holds and the question does not already say.

Defined for English text in general, from the tagger's entities and parts of speech plus a few
surface forms it misses: any year ("911", "1066"), centuries ("the 10th century"), decades ("the
1050s"), numbers in words, single-word names ("Rollo"). A sentence with no filler of the asked
kind cannot answer the question, however close it is.
"""

from __future__ import annotations

import re

from rag.answering.nlp import Annotated
from rag.answering.question import Slot
from rag.text import fold, lexical_tokens, stem

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_ORDINAL_WORDS = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|twenty-first"
_DATE_FORMS = re.compile(
    rf"\b(\d{{1,2}}(st|nd|rd|th)|{_ORDINAL_WORDS})[- ]centur(y|ies)\b"  # the 10th century
    r"|\b\d{2,4}0s\b|'\d0s\b"  # decades: the 1050s, the '60s
    rf"|\b({_MONTHS})\b"
    r"|\b\d{1,4} ?(BC|BCE|AD|CE|B\.C\.|A\.D\.)(?!\w)|\b(AD|A\.D\.) ?\d{1,4}\b"
    r"|\b(in|of|by|from|until|till|since|before|after|around|circa|c\.|ca\.|between|during|year|years|late|early|mid|spring|summer|autumn|fall|winter)\s+(the\s+)?(year\s+)?\d{3,4}\b"
    r"|\b\d{3,4}\s*[-\u2013\u2014]\s*\d{2,4}\b"  # 1904-05, 1937–1945
    r"|\b(1[0-9]|20)\d\d\b",  # a bare four-digit year of the second millennium
    re.I,
)
_NUMBER_WORDS = re.compile(
    r"\b(hundreds?|thousands?|millions?|billions?|dozens?|scores?|half|one|two|three|four|five|six|seven|eight|"
    r"nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|"
    r"fifty|sixty|seventy|eighty|ninety|several|few|many|numerous|majority|minority|most|all|none|both|"
    r"once|twice|thrice|percent|per cent)\b",
    re.I,
)
_DIGITS = re.compile(r"(?<![\w.])\d[\d,.]*\d%?|(?<![\w.])\d%?")
_CURRENCY = re.compile(
    r"[$¥£€₽]|\b(yen|dollars?|rubles?|roubles?|pounds?|francs?|yuan|marks|euros?|shillings?|pence|guilders?|"
    r"florins?|ducats?|livres?|crowns?|rupees?|pesos?|lire|talents?|denarii|US\$)\b",
    re.I,
)
_QUOTED = re.compile(r"[\"\u201c]([^\"\u201d]{2,80})[\"\u201d]")
_PERSON_LABELS = {"PERSON", "ORG", "NORP", "GPE"}  # the small model often labels a lone name ORG or GPE
_PLACE_LABELS = {"GPE", "LOC", "FAC", "ORG"}
_NAME_LABELS = {"PERSON", "ORG", "GPE", "LOC", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "NORP", "LANGUAGE"}
_NUMBER_LABELS = {"CARDINAL", "QUANTITY", "PERCENT", "MONEY"}


def _asked(question: str) -> tuple[str, set[str]]:
    q = fold(question)
    return q, {stem(t) for t in lexical_tokens(q, stemmed=False)} | set(lexical_tokens(q))


def _new(text: str, asked: tuple[str, set[str]]) -> bool:
    """Whether the candidate says something the question does not: not one of its words or numbers."""
    folded = fold(text).strip("\"' ")
    if not folded or folded in asked[0]:
        return False
    toks = lexical_tokens(folded, stemmed=False)
    return bool(toks) and any(stem(t) not in asked[1] and t not in asked[1] for t in toks)


def _proper_nouns(ann: Annotated) -> list[str]:
    """Runs of proper nouns (and capitalised words not opening the sentence)."""
    out, run = [], []
    for i, t in enumerate(ann.tokens):
        cap = t.text[:1].isupper() and (i > 0 or t.pos == "PROPN")
        if (t.pos == "PROPN" or (cap and t.pos in ("NOUN", "ADJ", "X"))) and not re.fullmatch(_MONTHS, t.text, re.I):
            run.append(t.text)
            continue
        if run:
            out.append(" ".join(run))
            run = []
    if run:
        out.append(" ".join(run))
    return out


def fillers(ann: Annotated, slot: Slot | None, question: str) -> list[str]:
    """Things of the asked kind in the sentence that the question does not already say."""
    if slot is None or slot is Slot.REASON:
        return [ann.text]
    asked = _asked(question)
    text = ann.text
    found: list[str] = []
    if slot is Slot.DATE:
        found = [e.text for e in ann.entities if e.label == "DATE"]
    elif slot in (Slot.NUMBER, Slot.MONEY):
        if slot is Slot.MONEY and not _CURRENCY.search(text) and not any(e.label == "MONEY" for e in ann.entities):
            return []
        found = [e.text for e in ann.entities if e.label in _NUMBER_LABELS or (e.label == "DATE" and re.search(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|hundred)\b", e.text, re.I) and not re.fullmatch(r"(the )?\d{3,4}s?", e.text))]
    elif slot is Slot.PERSON:
        found = [e.text for e in ann.entities if e.label in _PERSON_LABELS] + _proper_nouns(ann)
    elif slot is Slot.PLACE:
        found = [e.text for e in ann.entities if e.label in _PLACE_LABELS] + _proper_nouns(ann)
    elif slot is Slot.NAME:
        found = [e.text for e in ann.entities if e.label in _NAME_LABELS] + _proper_nouns(ann)
    found += _surface(text, slot)
    return [f for f in dict.fromkeys(found) if _new(f, asked)]


def surface_fillers(text: str, slot: Slot | None, question: str) -> list[str]:
    """The fillers found by surface forms alone, without the tagger: when there are some, the
    sentence fills the slot and need not be tagged (a tagged sentence costs ~5 ms here)."""
    if slot is None or slot is Slot.REASON:
        return [text]
    if slot is Slot.MONEY and not _CURRENCY.search(text):
        return []  # a MONEY entity could still make it one: only the tagger can say
    asked = _asked(question)
    return [f for f in dict.fromkeys(_surface(text, slot)) if _new(f, asked)]


def _surface(text: str, slot: Slot) -> list[str]:
    if slot is Slot.DATE:
        return [m.group(0) for m in _DATE_FORMS.finditer(text)]
    if slot in (Slot.NUMBER, Slot.MONEY):
        return [m.group(0) for m in _DIGITS.finditer(text)] + [m.group(0) for m in _NUMBER_WORDS.finditer(text)]
    if slot is Slot.NAME:
        return [m.group(1) for m in _QUOTED.finditer(text)]
    return []
