"""What a question asks for: its answer slot, its key terms and its parts.

One classifier for every consumer (the verdict, the composer, refusals). The slot is read from the
question's first wh-phrase only: in "What did TIME report they sang when they landed?" the "when"
is not what is asked. The patterns are plain English question forms, not words of one corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from rag.answering.nlp import Annotated, annotate
from rag.answering.terms import Term, key_terms
from rag.text import fold, lexical_tokens


class Slot(StrEnum):
    NUMBER = "number"  # how many / how much (not money) / what share
    MONEY = "money"  # how much did it cost, what did they pay
    DATE = "date"  # when / in what year / which century
    PERSON = "person"  # who / whom / which king
    PLACE = "place"  # where / in what country
    NAME = "name"  # which ship / what was the name of: a proper name
    REASON = "reason"  # why / for what reason


_WH = re.compile(r"\b(what|which|who|whom|whose|when|where|how|why)\b", re.I)
_MONEY_Q = re.compile(
    r"\b(cost|costs|pay|paid|pays|spend|spent|price|prices|compensation|worth|budget|funding|salary|salaries|wages?|fees?|fined?|revenue|income)\b",
    re.I,
)
_PERSON_ROLE = (
    r"person|people|persons|officer|officers|historian|historians|commander|commandant|captain|director|leader|leaders|"
    r"head|chief|man|men|woman|women|general|generals|editor|author|writer|poet|artist|composer|scientist|"
    r"minister|ambassador|envoy|chairman|president|judge|prosecutor|king|kings|queen|queens|emperor|empress|"
    r"duke|duchess|count|pope|bishop|prince|princess|ruler|rulers|monarch|founder|founders|inventor|player|"
    r"players|coach|singer|actor|actress|member|members|mayor|governor|official|officials|soldier|son|daughter|"
    r"father|mother|wife|husband|brother|sister|student|teacher|explorer|architect|engineer|saint|lord|noble|"
    r"nobles|chancellor|secretary|senator|successor|predecessor|heir|owner|manager|producer"
)
_PLACE_NOUN = (
    r"port|ports|camp|camps|city|cities|town|towns|village|place|places|region|regions|country|countries|"
    r"province|provinces|island|islands|state|states|continent|area|areas|location|site|river|county|nation|"
    r"capital|territory|kingdom|district|building|street|neighborhood|neighbourhood|venue|stadium"
)
_NUMBER_Q = re.compile(
    r"how (many|much|long|far|large|big|old|tall|high|deep|wide|often|heavy|fast)\b|"
    r"what (number|percentage|percent|proportion|share|size|amount|population|fraction|rate|length|height|area|distance|age)\b",
    re.I,
)
_DATE_Q = re.compile(
    r"when\b|(what|which) (dates?|days?|months?|years?|decades?|century|centuries|period|era|time)\b|"
    r"(what|which) (was|were|is) the (date|year)\b",
    re.I,
)
_PERSON_Q = re.compile(
    rf"who\b|whom\b|whose\b|(what|which) (was |were |is |are )?(the )?(names? of (the |a |an |his |her |their )?\w*\s?)?({_PERSON_ROLE})\b",
    re.I,
)
_PLACE_Q = re.compile(rf"where\b|(what|which) ({_PLACE_NOUN})\b", re.I)
_NAME_Q = re.compile(r"(what|which) (was|were|is|are) the (names?|titles?) of\b|which \w+|what \w+ (was|were|is|are) (called|named)\b", re.I)
_REASON_Q = re.compile(r"why\b|what (was|were|is|are) the (main )?(reasons?|causes?|motives?)\b|for what (reason|purpose)\b", re.I)
_RULES: tuple[tuple[Slot, re.Pattern[str]], ...] = (
    (Slot.REASON, _REASON_Q),
    (Slot.NUMBER, _NUMBER_Q),
    (Slot.DATE, _DATE_Q),
    (Slot.PERSON, _PERSON_Q),
    (Slot.PLACE, _PLACE_Q),
    (Slot.NAME, _NAME_Q),
)
_COMPARE = re.compile(
    r"\b(differ|differed|differs|difference|differences|compare|compared|comparison|contrast|contrasted|"
    r"similar|similarity|similarities|unlike|versus|vs\.?)\b",
    re.I,
)


def asked_slot(question: str) -> Slot | None:
    """The kind of answer the question's first wh-phrase asks for (None: a description)."""
    m = _WH.search(question)
    if not m:
        return None
    head = question[m.start():]
    for slot, pattern in _RULES:
        if pattern.match(head):
            if slot is Slot.NUMBER and re.match(r"how much\b", head, re.I) and _MONEY_Q.search(question):
                return Slot.MONEY
            return slot
    if re.match(r"what\b", head, re.I) and re.search(r"\b(pay|paid|cost|costs|compensation|price)\b", question, re.I):
        return Slot.MONEY
    return None


_WH_WORD = r"(?:what|which|who|whom|whose|when|where|how|why)"
# A further wh-clause: after a comma or "and" ("..., and who mediated it?", "When and where did
# ...?"), or after "and" with a preposition ("... and in what year ...?"; after a bare comma that
# would be a relative clause: "..., in which he ...").
_SECOND_CLAUSE = re.compile(
    rf"(?:,|\band\b)\s+({_WH_WORD}\b.*)"
    rf"|\band\s+((?:in|on|at|by|from|for|with|to|of|during|under|since|until|after|before|into|through)\s+{_WH_WORD}\b.*)",
    re.I,
)


def _second_clauses(question: str) -> list[tuple[Slot | None, str]]:
    """Further wh-clauses with their slot (None: a description): "When was it signed, and who
    mediated it?" -> (PERSON, "who mediated it?"); "When and where did Ida make landfall?" ->
    (PLACE, "where did Ida make landfall?")."""
    clauses = [m.group(1) or m.group(2) for m in _SECOND_CLAUSE.finditer(question)]
    return [(asked_slot(c), c) for c in clauses]


def _first_clause(question: str) -> str:
    """The question up to its second wh-clause ("On what date did X, and which city ...?" -> "On
    what date did X,"): the anchor sentence may answer the second part only."""
    m = _SECOND_CLAUSE.search(question)
    return question[: m.start()] if m else question


@dataclass
class Facet:
    """One part an answer must cover: a side of a comparison, or a second wh-clause's slot."""

    terms: list[Term]
    slot: Slot | None = None
    label: str = ""


@dataclass
class Asked:
    text: str
    slot: Slot | None
    terms: list[Term]
    annotated: Annotated | None = None
    facets: list[Facet] = field(default_factory=list)
    comparison: bool = False

    @property
    def entity_terms(self) -> list[Term]:
        return [t for t in self.terms if t.specific]

    @property
    def attribute_terms(self) -> list[Term]:
        return [t for t in self.terms if not t.specific and t.word[:1].isalpha()]


def analyse(question: str, lexical, retrieval_query: str | None = None) -> Asked:
    """Slot, weighted key terms (of the retrieval query, which carries a follow-up's topic) and facets."""
    ann = annotate(question)
    terms = key_terms(retrieval_query or question, lexical, specific=_specific_words(ann))
    slot = asked_slot(question)
    asked = Asked(question, slot, terms, ann, comparison=bool(_COMPARE.search(question)))
    asked.facets = _facets(question, ann, terms, slot)
    return asked


def _specific_words(ann: Annotated) -> set[str]:
    """Folded words of the question's names and numbers: their absence from the evidence is telling."""
    out: set[str] = set()
    for i, t in enumerate(ann.tokens):
        w = fold(t.text)
        if t.pos == "NUM" or t.text[:1].isdigit() or t.pos == "PROPN" or (t.ent and t.ent not in ("ORDINAL",) and t.text[:1].isupper()):
            out.add(w)
        elif i > 0 and t.text[:1].isupper() and t.text.lower() not in ("i",) and t.pos not in ("PRON", "DET", "ADP"):
            out.add(w)  # a capitalised word inside the question
    return out


def _name_run(toks, k: int) -> list[int]:
    """A side named by several proper nouns ("John Zimisces") is met by any of them."""
    if toks[k].pos != "PROPN":
        return [k]
    lo, hi = k, k
    while lo > 0 and toks[lo - 1].pos == "PROPN":
        lo -= 1
    while hi + 1 < len(toks) and toks[hi + 1].pos == "PROPN":
        hi += 1
    return list(range(lo, hi + 1))


def _side(toks, order) -> int | None:
    """The token that names one side of "X compared with Y": the nearest name, else the nearest noun."""
    nouns = []
    for k in order:
        t = toks[k]
        if t.pos == "PUNCT":
            break
        if t.pos == "PROPN":
            return k
        if t.pos == "NOUN":
            nouns.append(k)
    return nouns[0] if nouns else None


def _facets(question: str, ann: Annotated, terms: list[Term], slot: Slot | None) -> list[Facet]:
    facets: list[Facet] = []
    second = _second_clauses(question)
    if second and slot is not None and slot is not Slot.REASON:
        own = set(lexical_tokens(_first_clause(question)))
        facets.append(Facet([t for t in terms if t.token in own], slot, slot.value))
    for s, clause in second:
        # The clause's own words too: in "Why did they halt it on 1 December, and when did it
        # resume?" a sentence with a date but without "resume" answers the first part only. A
        # clause of the first one's kind ("When did it open, and when did it close?") or of no
        # kind ("..., and what were they charged with?") is a part only by its own words.
        own = set(lexical_tokens(clause))
        clause_terms = [t for t in terms if t.token in own]
        if s is not None and s != slot:
            facets.append(Facet(clause_terms, s, s.value))
        elif clause_terms and s is not Slot.REASON:
            facets.append(Facet(clause_terms, s, (s.value if s else "") + " " + " ".join(t.word for t in clause_terms)))
    # Sides of a comparison or a pair: "Soviet and Chinese Communist treatment", "A and B differ",
    # "in Cuba and in Canada", "How did X in Cuba compare with those on the Gulf coast?".
    toks = ann.tokens
    words = [fold(t.text) for t in toks]
    pairs: list[tuple[int, int]] = []
    for i, w in enumerate(words):
        if w == "and" and 0 < i < len(words) - 1:
            j = i + 1
            while j < len(toks) - 1 and toks[j].pos in ("ADP", "DET"):
                j += 1  # "in Cuba and in Canada", "the Soviets and the CCP"
            pairs.append((i - 1, j))
        elif _COMPARE.fullmatch(w) and i + 1 < len(words) and words[i + 1] in ("with", "to", "from", "and"):
            left = _side(toks, range(i - 1, -1, -1))
            right = _side(toks, range(i + 2, len(toks)))
            if left is not None and right is not None:
                pairs.append((left, right))
    for a, b in pairs:
        left, right = toks[a], toks[b]
        if left.pos in ("PROPN", "ADJ", "NOUN") and right.pos in ("PROPN", "ADJ", "NOUN"):
            sides = []
            for k in (a, b):
                run = _name_run(toks, k)
                ts = [t for t in terms if t.word in {fold(toks[m].text) for m in run}]
                if ts:
                    sides.append(Facet(ts, None, " ".join(toks[m].text for m in run)))
            if len(sides) == 2 and (_COMPARE.search(question) or all(t.specific for f in sides for t in f.terms)):
                facets.extend(f for f in sides if all(f.label != g.label for g in facets))
    return facets
