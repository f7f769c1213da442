"""Fitting the verdict on several corpora and measuring it leave-one-corpus-out.

Every question is run once: its verdict signals and its composed answer (made whatever the
verdict says) are recorded. A model is then fitted on all corpora but one and scored on the one
left out: refused or not, covered or not, so each held-out figure comes from a model that never saw
that corpus's documents or questions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from rag.answering.answer import extractive_answer
from rag.answering.followup import combine_turns, follow_up_alone
from rag.evaluation.metrics import includes_all
from rag.evaluation.questions import Question, load_questions

MAX_FALSE_REFUSAL = 0.05  # mean over the fitting corpora; the held-out gate is looser
C = 0.5


@dataclass(frozen=True)
class CorpusSpec:
    name: str
    kind: str
    docs: Path
    questions: tuple[Path, ...]


@dataclass
class Row:
    corpus: str
    set: str  # the question file's stem
    id: str
    answerable: bool
    kind: str | None
    x: list[float]
    includes: bool  # the composed answer holds every must_include string
    hit5: bool


def load_corpora(manifest: str | Path) -> list[CorpusSpec]:
    """eval/corpora/corpora.yaml: name, kind, docs and question files, paths relative to it."""
    path = Path(manifest)
    base = path.parent
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        CorpusSpec(c["name"], c.get("kind", ""), (base / c["docs"]).resolve(), tuple((base / q).resolve() for q in c["questions"]))
        for c in data["corpora"]
    ]


def collect(qa, spec: CorpusSpec, features: tuple[str, ...]) -> list[Row]:
    """Signals and composed answers for every question of a corpus, through the Assistant's own steps."""
    rows = []
    for qfile in spec.questions:
        qs, errors = load_questions(qfile)
        if errors:
            raise ValueError(f"{qfile}: {errors[0].error}")
        for q in qs:
            rows.append(_row(qa, spec, qfile.stem, q, features))
    return rows


def _row(qa, spec, set_name, q: Question, features) -> Row:
    query = combine_turns(q.question, q.history)
    r = qa.searcher.search(query, qa.settings.top_k, also=follow_up_alone(q.question, q.history))
    ev = qa.evidence(q.question, query, r)
    includes = False
    if q.answerable and q.must_include and ev.sentences:
        includes = includes_all(extractive_answer(ev).answer, q.must_include)
    hit5 = bool(q.must_include) and includes_all("\n".join(p.text for p in r.passages[:5]), q.must_include)
    return Row(spec.name, set_name, q.id, q.answerable, q.unanswerable_kind, ev.signals.vector(features), includes, hit5)


def fit(rows: list[Row], features: tuple[str, ...], max_false_refusal: float | None = None) -> dict:
    """Standardised logistic regression, classes balanced and corpora weighted equally; the
    threshold refuses as much as it can while false refusals on these rows stay within budget."""
    from sklearn.linear_model import LogisticRegression

    X = np.array([r.x for r in rows], dtype=float)
    y = np.array([int(r.answerable) for r in rows])
    corpora = [r.corpus for r in rows]
    counts = {c: corpora.count(c) for c in set(corpora)}
    w = np.array([1.0 / counts[c] for c in corpora])
    w = w / w.mean()
    mu, sd = X.mean(0), X.std(0) + 1e-9
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=5000).fit((X - mu) / sd, y, sample_weight=w)
    p = clf.predict_proba((X - mu) / sd)[:, 1]
    thr = _threshold(p, y, corpora, MAX_FALSE_REFUSAL if max_false_refusal is None else max_false_refusal)
    return {
        "features": list(features), "mean": mu.tolist(), "scale": sd.tolist(), "coef": clf.coef_[0].tolist(),
        "intercept": float(clf.intercept_[0]), "threshold": thr,
    }


def _threshold(p: np.ndarray, y: np.ndarray, corpora: list[str], budget: float) -> float:
    """The highest threshold whose false-refusal rate, averaged over the fitting corpora (each
    counted once, whatever its size), stays within budget."""
    names = sorted(set(corpora))
    c = np.array(corpora)
    best = float(p.min()) - 1e-6
    for thr in np.unique(np.round(p, 5)):
        rates = [float(np.mean(p[(c == n) & (y == 1)] < thr)) for n in names if ((c == n) & (y == 1)).any()]
        if rates and float(np.mean(rates)) <= budget:
            best = max(best, float(thr))
    below = p[p < best]
    return round((best + float(below.max())) / 2, 6) if len(below) else best


def probabilities(model: dict, rows: list[Row]) -> np.ndarray:
    X = np.array([r.x for r in rows], dtype=float)
    z = model["intercept"] + ((X - np.array(model["mean"])) / np.array(model["scale"])) @ np.array(model["coef"])
    return 1 / (1 + np.exp(-z))


@dataclass
class Figures:
    questions: int
    answerable: int
    unanswerable: int
    coverage: float | None
    false_refusal: float | None
    refusal: float | None
    hit5: float | None

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def figures(model: dict, rows: list[Row]) -> Figures:
    p = probabilities(model, rows)
    answered = p >= model["threshold"]
    ans = [i for i, r in enumerate(rows) if r.answerable]
    una = [i for i, r in enumerate(rows) if not r.answerable]

    def mean(v):
        return round(float(np.mean(v)), 4) if len(v) else None

    return Figures(
        len(rows), len(ans), len(una),
        coverage=mean([float(answered[i] and rows[i].includes) for i in ans]),
        false_refusal=mean([float(not answered[i]) for i in ans]),
        refusal=mean([float(not answered[i]) for i in una]),
        hit5=mean([float(rows[i].hit5) for i in ans]),
    )


def leave_one_corpus_out(rows: list[Row], features: tuple[str, ...]) -> dict[str, dict[str, Figures]]:
    """For each corpus: a model fitted on the others, scored on each of its question sets."""
    out: dict[str, dict[str, Figures]] = {}
    for name in sorted({r.corpus for r in rows}):
        model = fit([r for r in rows if r.corpus != name], features)
        held = [r for r in rows if r.corpus == name]
        out[name] = {s: figures(model, [r for r in held if r.set == s]) for s in sorted({r.set for r in held})}
    return out
