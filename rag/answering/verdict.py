"""Deciding whether the evidence answers the question, and saying why not in the user's words.

Similarity alone cannot tell a near-topic unanswerable question from an answerable one: both find
close passages. The verdict is a logistic model over the few general signals of
evidence.Signals (closeness, the question's names and numbers in the best sentence, its plain
words there, a filler of the asked kind beside them, words the corpus never uses, a year or count
of the question that no close sentence holds, a multi-word name whose words stand side by side in
no retrieved passage). It is fitted by
`python -m bench.calibrate_verdict` on several corpora of different kinds under eval/corpora/
(encyclopedia, public-domain scholarship, a PDF report, the shipped corpus) and reported
leave-one-corpus-out, so no figure comes from the data it was fitted on.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag.answering.evidence import Evidence, Signals, Verdict
from rag.text import fold

MODEL_FILE = Path(__file__).with_name("verdict_model.json")
FEATURES = ("best_sim", "passage_sim", "window", "gap", "rare_missing", "entity", "fit", "number_missing", "name_missing")


@dataclass(frozen=True)
class Model:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float

    def probability(self, s: Signals) -> float:
        x = s.vector(self.features)
        z = self.intercept + sum(
            c * (v - mu) / (sd or 1.0) for c, v, mu, sd in zip(self.coef, x, self.mean, self.scale, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    @classmethod
    def from_dict(cls, d: dict) -> Model:
        return cls(
            tuple(d["features"]), tuple(d["mean"]), tuple(d["scale"]), tuple(d["coef"]),
            float(d["intercept"]), float(d["threshold"]),
        )


# Used only when the fitted file is missing: answer when one sentence binds names, words and filler.
_FALLBACK = Model(FEATURES, (0.0,) * 9, (1.0,) * 9, (2.0, 1.0, 2.0, -3.0, -2.0, 2.0, 3.0, -3.0, -3.0), -5.0, 0.5)


@lru_cache(maxsize=1)
def default_model() -> Model:
    try:
        return Model.from_dict(json.loads(MODEL_FILE.read_text()))
    except (OSError, ValueError, KeyError):
        return _FALLBACK


def decide(evidence: Evidence, model: Model | None = None) -> Verdict:
    m = model or default_model()
    if not evidence.sentences:
        return Verdict(False, 0.0, "no passage of the corpus is close to the question")
    p = round(m.probability(evidence.signals), 4)
    if p >= m.threshold:
        return Verdict(True, p)
    return Verdict(False, p, reason(evidence))


def surface(question: str, folded_words: list[str]) -> list[str]:
    """The question's own spelling of folded words ("Kōan" for koan), never a stem."""
    out = []
    for w in folded_words:
        for m in re.finditer(r"[\w'\u2019-]+", question):
            if fold(m.group(0)).strip("'") == w or fold(m.group(0)).removesuffix("'s") == w:
                out.append(m.group(0))
                break
        else:
            out.append(w)
    return list(dict.fromkeys(out))


def _quoted(words: list[str]) -> str:
    words = [f"\u201c{w}\u201d" for w in words[:4]]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def reason(evidence: Evidence) -> str:
    """Why the evidence does not answer, in the question's words."""
    s, q = evidence.signals, evidence.question
    if s.unknown:
        return f"the corpus never mentions {_quoted(surface(q, s.unknown))}"
    if s.numbers:
        return f"no passage close to the question mentions {_quoted(s.numbers)}"
    if s.names:
        return f"no passage close to the question mentions {_quoted(s.names)}"
    entity_missing = [t.word for t in evidence.asked.entity_terms if t.word in s.missing]
    if entity_missing:
        return f"no passage close to the question mentions {_quoted(surface(q, entity_missing))}"
    if s.slot and s.fit < 0.3:
        kind = {"person": "person", "place": "place", "date": "date", "number": "number", "money": "sum",
                "name": "name", "reason": "reason"}.get(s.slot, s.slot)
        subject = [t.word for t in evidence.asked.terms][:3]
        about = f" about {_quoted(surface(q, subject))}" if subject else ""
        return f"no passage gives the {kind} asked for{about}"
    if s.missing:
        return f"the closest passages do not mention {_quoted(surface(q, s.missing))}"
    return "the closest passages are about the same subject but do not say this"
