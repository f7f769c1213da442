"""Deciding that the corpus does not answer a question.

Similarity alone cannot tell a near-topic off-corpus question ("How many Japanese prisoners did
France hold in Indochina?") from an answerable one: both find close passages. The decision combines
signals: how close the best sentence is, whether the question's names, numbers and rare words occur
in the evidence at all, and whether some sentence holds both the question's terms and the kind of
thing asked for (a number for "how many", a date for "when", a name for "who"). A logistic model over
these signals is fitted on the dev question set by `bench/calibrate_refusal.py`, which writes
refusal_model.json beside this file and reports leave-one-out accuracy. The model uses only the
few signals in FEATURES: the slot fit (see slots.py) does the work the overlapping coverage
signals did, and a small model is less fitted to the dev set. The rest still explain a refusal.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from rag.text import fold

MODEL_FILE = Path(__file__).with_name("refusal_model.json")

_HOW_MANY = re.compile(r"\bhow (many|much|long|far|large|big)\b|\bwhat (number|percentage|proportion|share|size)\b", re.I)
_WHEN = re.compile(r"\bwhen\b|\b(what|which) (dates?|days?|months?|years?)\b", re.I)
_WHO = re.compile(r"\bwho\b|\bwhom\b|\bwhose\b|\bwhich (person|officer|historian|commander|man|woman)\b|\bname of\b", re.I)
_WHERE = re.compile(r"\bwhere\b|\bwhich (port|camp|city|town|place|region|country)\b", re.I)
_NUMBERISH = re.compile(
    r"\d|\b(hundred|thousand|million|dozen|half|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b", re.I
)
_DATEISH = re.compile(
    r"\b(1[89]\d\d|20\d\d)\b|\b(january|february|march|april|may|june|july|august|september|october|november|december)\b",
    re.I,
)
_CAPS = re.compile(r"\b[A-Z][\w'\u2019]*(?:[ -][A-Z][\w'\u2019]*)+")
_PLACEISH = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-zāēīōū]+")

FEATURES = ("top_sentence_sim", "top_passage_sim", "evidence_coverage", "unknown_weight", "slot_fit")


_WH = re.compile(r"\b(what|which|who|whom|whose|when|where|how)\b", re.I)
_NOT_NAME = frozenset(["the", "a", "an", "in", "on", "at", "by", "of", "for", "from", "to", "and", "but", "this", "that", "these", "those", "its", "his", "her", "their", "after", "before", "during", "under", "with"])


def expected_type(question: str) -> str | None:
    """The kind of answer asked for, read from the question's first wh-phrase only: in "What did
    TIME report they sang when they landed?" the "when" is not what is asked."""
    m = _WH.search(question)
    if not m:
        return None
    for kind, pattern in (("number", _HOW_MANY), ("date", _WHEN), ("name", _WHO), ("place", _WHERE)):
        if pattern.match(question, m.start()):
            return kind
    return None


def _names(text: str) -> list[str]:
    out = []
    for m in _CAPS.finditer(text):
        words = m.group(0).split()
        while words and words[0].lower() in _NOT_NAME:
            words.pop(0)
        if len(words) >= 2:
            out.append(" ".join(words))
    return out


def has_type(text: str, kind: str | None, question: str = "") -> bool:
    """Whether the sentence holds something of that kind that the question does not already say."""
    if kind is None:
        return True
    asked = fold(question)
    if kind == "name":
        found = _names(text)
    else:
        pattern = {"number": _NUMBERISH, "date": _DATEISH, "place": _PLACEISH}[kind]
        found = [m.group(0) for m in pattern.finditer(text)]
    return any(fold(f) not in asked for f in found)


@dataclass
class Signals:
    support: float = 0.0  # best sentence score: similarity plus key-term coverage
    top_sentence_sim: float = 0.0
    top_passage_sim: float = 0.0
    evidence_coverage: float = 0.0  # IDF-weighted share of key terms found anywhere in the evidence
    sentence_coverage: float = 0.0  # the same, within the single best-covering sentence
    typed_coverage: float = 0.0  # ... within a sentence that also holds the kind of answer asked for
    soft_coverage: float = 0.0  # typed coverage that also credits paraphrased words
    focus_match: float = 1.0  # how well a typed sentence matches the question's rarest plain word
    missing_specific: float = 0.0  # names and numbers of the question absent from the evidence
    unknown_weight: float = 0.0  # share of key-term weight the corpus never uses at all
    slot_fit: float = 0.0  # one sentence holding the question's entity, attribute and asked-for filler
    slot: str | None = None  # what the question asks for: number, money, date, person, place, name
    missing: list[str] = field(default_factory=list)
    probability: float = 0.0  # of being answerable, from the calibrated model

    def as_dict(self) -> dict:
        return asdict(self)

    def vector(self) -> list[float]:
        return [float(getattr(self, f)) for f in FEATURES]


@lru_cache(maxsize=1)
def _model() -> dict:
    try:
        return json.loads(MODEL_FILE.read_text())
    except (OSError, ValueError):
        # Uncalibrated fallback: refuse only when the evidence plainly lacks the question's terms.
        return {"mean": [0.0] * len(FEATURES), "scale": [1.0] * len(FEATURES),
                "coef": [1, 1, 3, -4, 3], "intercept": -1.0, "threshold": 0.5}


def answerable_probability(s: Signals) -> float:
    m = _model()
    x = [float(getattr(s, f)) for f in m.get("features", FEATURES)]
    z = m["intercept"] + sum(
        c * (v - mu) / (sd or 1.0) for c, v, mu, sd in zip(m["coef"], x, m["mean"], m["scale"], strict=True)
    )
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def should_refuse(s: Signals) -> tuple[bool, str]:
    s.probability = round(answerable_probability(s), 4)
    if s.probability >= _model()["threshold"]:
        return False, ""
    if s.missing_specific:
        return True, "the corpus does not mention " + ", ".join(s.missing[:4]) + " in this context"
    if s.slot and s.slot_fit < 0.2:
        return True, f"no passage gives the {s.slot} asked for together with its subject"
    if s.typed_coverage < s.sentence_coverage:
        return True, "no passage gives the kind of answer asked for"
    if s.missing:
        return True, "key terms are absent from the evidence (" + ", ".join(s.missing[:4]) + ")"
    return True, "the closest passages do not answer it closely enough"
