"""What a question asks for (its answer slot) and whether one evidence sentence fills it.

Near-topic questions the corpus cannot answer usually ask for an attribute it lacks about an
entity it does mention: the captain of a ship it names, what a repatriation cost, how many died
in one particular camp. Their evidence is close and holds every name, so similarity and term
coverage pass them. What gives them away is that no single sentence binds the three parts of an
answer together: the question's entity, the attribute word (captain, cost, died) and a filler of
the kind asked for (a person's name, a sum of money, a count) that the question does not already
contain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from rag.answering.terms import Term, coverage, term_match
from rag.text import fold, lexical_tokens, stem

HEAD_FLOOR = 0.0  # share of the fit kept when the filler's sentence lacks the question's verb (see predicate_words)


class Slot(StrEnum):
    NUMBER = "number"  # how many / how much (not money) / what share
    MONEY = "money"  # how much did it cost, what did they pay
    DATE = "date"  # when / in what year / on what date
    PERSON = "person"  # who / whom / the name of an officer
    PLACE = "place"  # where / to which port
    NAME = "name"  # which ship / what was the name of: a proper name


_WH = re.compile(r"\b(what|which|who|whom|whose|when|where|how)\b", re.I)
_MONEY_WORDS = r"cost|costs|pay|paid|pays|spend|spent|price|compensation|compensated|worth|budget|funding|funds|salary|salaries|wages?|fees?|fined?"
_MONEY_Q = re.compile(rf"\b({_MONEY_WORDS})\b", re.I)
_PERSON_ROLE = (
    r"person|people|officer|officers|historian|historians|commander|commandant|captain|director|leader|head|chief|"
    r"man|men|woman|women|general|editor|author|authors|minister|ambassador|envoy|chairman|president|judge|prosecutor"
)
_RULES: tuple[tuple[Slot, re.Pattern[str]], ...] = (
    (Slot.NUMBER, re.compile(r"how (many|much|long|far|large|big)\b|what (number|percentage|proportion|share|size)\b", re.I)),
    (Slot.DATE, re.compile(r"when\b|(what|which) (dates?|days?|months?|years?)\b", re.I)),
    (Slot.PERSON, re.compile(rf"who\b|whom\b|whose\b|(what|which) (was |were |is |are )?(the )?(names? of (the |a |an )?\w*\s?)?({_PERSON_ROLE})\b", re.I)),
    (Slot.PLACE, re.compile(r"where\b|(what|which) (port|ports|camp|camps|city|cities|town|towns|place|places|region|regions|country|countries|province|island|islands)\b", re.I)),
    (Slot.NAME, re.compile(r"(what|which) (was|were|is|are) the (names?|titles?) of\b|which \w+", re.I)),
)


def asked_slot(question: str) -> Slot | None:
    """The kind of answer asked for, read from the question's first wh-phrase only: in "What did
    TIME report they sang when they landed?" the "when" is not what is asked."""
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


# ------------------------------------------------------------------ fillers
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_NUM = re.compile(r"(?<![\w.])\d[\d,.]*\d|(?<![\w.])\d")
_NUM_WORD = re.compile(
    r"\b(hundreds?|thousands?|millions?|dozens?|half|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|all|none|both|several)\b",
    re.I,
)
_MONTH = re.compile(rf"\b({_MONTHS})\b", re.I)
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)s?\b")
_CURRENCY = re.compile(r"[$¥£€]|\b(yen|dollars?|rubles?|roubles?|pounds sterling|francs?|yuan|marks|US\$)\b", re.I)
_TITLE = r"(?:Lt\.|Gen\.|Col\.|Maj\.|Capt\.|Dr\.|Prof\.|Mr\.|Mrs\.|Major|General|Colonel|Captain|Marshal|Admiral|Lieutenant|Commander|Prime Minister|President|Chairman|Premier|Foreign Minister|Ambassador|Professor)"
_CAP = r"[A-Z][\w'\u2019\u0100-\u017f-]*"
_INITIAL = r"[A-Z]\."
_PERSON = re.compile(
    rf"\b{_TITLE}(?: {_TITLE})* (?:{_INITIAL} )*{_CAP}(?: {_CAP})?|(?:{_INITIAL} ){{1,3}}{_CAP}|\b{_CAP}(?: {_CAP})+"
)
# Capitalised words that head names of things, not people; and adjectives of nationality.
_NOT_PERSON_WORDS = (
    "army armies war wars maru declaration treaty university press centre center camp camps "
    "party republic union ministry committee railway sea river region territory theatre theater "
    "school tribunal court museum archive archives shimbun journal studies review society cross "
    "station port bay island islands province district city krai oblast front fleet navy unit "
    "group council bureau office department government agreement communique conference incident "
    "uprising trial trials series opera ballet mainline institute academy library foundation "
    "association the a an in on at by of for from to and but this that these those its his her "
    "their after before during under with japanese soviet chinese russian american british "
    "korean mongolian manchu us usa ussr prc ccp kmt red north south east west northeast "
    "northwest southeast southwest central western eastern northern southern january february "
    "march april may june july august september october november december english wikipedia time "
    "times history according communist communists nationalist nationalists democratic allied "
    "former naval shipyard volunteer liberation people's peoples state states empire imperial "
)
_NOT_PERSON = frozenset(_NOT_PERSON_WORDS.split())


def _new(found: str, asked: str) -> bool:
    return fold(found) not in asked


def _country_of_asked(word: str, asked: str) -> bool:
    """Japan for a question about the Japanese, China for the Chinese: a place name that only restates
    a nationality the question already gives is no new filler."""
    w = fold(word)
    if len(w) < 4:
        return False
    for a in lexical_tokens(asked, stemmed=False):
        n = 0
        while n < min(len(a), len(w)) and a[n] == w[n]:
            n += 1
        if a != w and n >= max(4, len(w) - 1) and len(a) > len(w):
            return True
    return False


def _counts(text: str, asked: str) -> list[str]:
    """Numbers that can be counts or amounts: not years, not days of a month, not labels (Camp No. 48)."""
    out = []
    for m in _NUM.finditer(text):
        tok = m.group(0).rstrip(".,")
        before, after = text[max(0, m.start() - 12):m.start()], text[m.end():m.end() + 12]
        if _YEAR.fullmatch(tok) or re.search(r"\bNo\.?\s*$|\bArticle\s*$|\bUnit\s*$", before):
            continue
        if re.match(rf"\s*({_MONTHS})\b", after, re.I) or re.search(rf"\b({_MONTHS})\s*$", before, re.I):
            continue
        if tok not in set(lexical_tokens(asked)):
            out.append(tok)
    out += [w.group(0) for w in _NUM_WORD.finditer(text) if _new(w.group(0), asked)]
    return out


def _persons(text: str, asked: str) -> list[str]:
    out = []
    stems = asked_stems(asked)
    for m in _PERSON.finditer(text):
        words = [w for w in re.split(r"[ -]", m.group(0)) if w]
        while words and fold(words[0]) in _NOT_PERSON:
            words.pop(0)
        plain = [w for w in words if not w.endswith(".") and not re.fullmatch(_TITLE, w)]
        if not plain or any(fold(w) in _NOT_PERSON or w[:1].islower() for w in plain):
            continue
        if len(plain) == len(words) == 1:
            continue  # a lone capitalised word (Yomiuri, Asia) is no evidence of a person
        if any(stem(fold(w)) not in stems and not _country_of_asked(w, asked) for w in plain):
            out.append(" ".join(words))
    return out


def asked_stems(asked: str) -> set[str]:
    return {stem(t) for t in lexical_tokens(asked, stemmed=False)} | set(lexical_tokens(asked))


def _proper(text: str, asked: str) -> list[str]:
    """Capitalised words after the sentence's first word, or a quoted title: a proper name."""
    out = []
    stems = asked_stems(asked)
    for m in re.finditer(r"(?<=[\w,;:)] )[A-Z][\w'\u2019\u0100-\u017f-]+|[\"\u201c][^\"\u201d]{3,}[\"\u201d]", text):
        w = m.group(0)
        if fold(w) in _NOT_PERSON or stem(fold(w).strip('"')) in stems or _country_of_asked(w, asked):
            continue
        out.append(w)
    return out


def fillers(text: str, slot: Slot | None, question: str) -> list[str]:
    """Things of the asked kind in the sentence that the question does not already say."""
    asked = fold(question)
    if slot is None:
        return [text]
    if slot is Slot.NUMBER:
        return _counts(text, asked)
    if slot is Slot.MONEY:
        return _counts(text, asked) if _CURRENCY.search(text) else []
    if slot is Slot.DATE:
        return [m.group(0) for m in (*_YEAR.finditer(text), *_MONTH.finditer(text)) if _new(m.group(0), asked)]
    if slot is Slot.PERSON:
        return _persons(text, asked)
    return _proper(text, asked)


# ------------------------------------------------------------------ the question's head words
_AUX_WORDS = "did does do was were is are has have had be been being"
_AUX = frozenset(_AUX_WORDS.split())
_IRREGULAR_WORDS = (
    "led held sent built won lost paid spent fought brought found left made took taken gave given began begun "
    "became sank sunk shot kept met sold bought put ran fled froze wrote written chose chosen bore borne"
)
_IRREGULAR = frozenset(_IRREGULAR_WORDS.split())
_DETERMINER_WORDS = "the a an this these those its his her their most many some each"
_DETERMINER = frozenset(_DETERMINER_WORDS.split())
_CLAUSE_STOP_WORDS = (
    "in on at by for from to into with without over under after before during about against between among "
    "through across toward towards while when where who which that as than a an the this these those its his "
    "her their each every any some all no and or but"
)
_CLAUSE_STOP = frozenset(_CLAUSE_STOP_WORDS.split())


def predicate_words(question: str) -> set[str]:
    """The question's verb: the attribute its answer must be bound to. A count of prisoners is no answer to
    how many prisoners *died*; a date is no answer to when a paper *closed*. Read from the surface:
    a participle or past form (killed, held, led), or the bare verb after "did <subject>" (did Japan *gain*),
    the subject running to the first preposition or determiner, "of" phrases included."""
    words = re.findall(r"[\w'\u2019-]+", question)
    out: set[str] = set()
    for w in words:
        lw = fold(w)
        if not w[:1].islower() or lw in _AUX:
            continue
        if (len(lw) >= 4 and lw.endswith("ed")) or lw in _IRREGULAR:
            out.add(lw)
    for i, w in enumerate(words):
        if fold(w) not in {"did", "does", "do"}:
            continue
        last = None
        for x in words[i + 1:]:
            lx = fold(x)
            if last is None and lx in _DETERMINER:
                continue
            if lx in _AUX or (lx in _CLAUSE_STOP and lx not in {"and", "or"}):
                break
            if x[:1].islower() and lx not in {"of", "and", "or"}:
                last = lx
        if last:
            out.add(last)
        break
    return out


@dataclass(frozen=True)
class SlotFit:
    """How well the best single sentence binds the question's entity, attribute and a filler."""

    slot: Slot | None
    fit: float = 0.0  # attribute match x entity coverage, best over sentences that hold a filler
    attribute: float = 0.0  # IDF-weighted (soft) match of the question's plain words in that sentence
    entity: float = 0.0  # IDF-weighted share of its names and numbers there


def slot_fit(question: str, terms: list[Term], sentences: list[str], words) -> SlotFit:
    """Best binding among the candidate sentences. The question's plain words (captain, cost, died)
    are its attribute and may be paraphrased; its names and numbers are the entity and must occur. Its
    verb (predicate_words) must be there too, or a close paraphrase: the fit is scaled by its best match."""
    slot = asked_slot(question)
    attribute = [t for t in terms if not t.specific and t.word[:1].isalpha()]
    entity = [t for t in terms if t not in attribute]
    a_total = sum(t.weight for t in attribute)
    verbs = predicate_words(question) if slot else set()
    head = [t for t in attribute if t.word in verbs]
    best = SlotFit(slot)
    for text in sentences:
        if not fillers(text, slot, question):
            continue
        a = sum(t.weight * term_match(t, text, words) for t in attribute) / a_total if a_total else 1.0
        e = coverage(entity, set(lexical_tokens(text))) if entity else 1.0
        h = max((term_match(t, text, words) for t in head), default=1.0)
        cand = SlotFit(slot, round(a * e * (HEAD_FLOOR + (1 - HEAD_FLOOR) * h), 4), round(a, 4), round(e, 4))
        if (cand.fit, cand.attribute + cand.entity) > (best.fit, best.attribute + best.entity):
            best = cand
    return best
