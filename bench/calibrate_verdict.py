"""Fit the answer/refuse verdict on the corpora of eval/corpora/ and report it leave-one-corpus-out.

`python -m bench.calibrate_verdict [--write]`: ingests each corpus into out/calibration/<name>
(incrementally), runs every question once, prints per-corpus figures of a model fitted on the
other corpora, and with --write stores the model fitted on all of them in
rag/answering/verdict_model.json together with those held-out figures.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "eval" / "corpora" / "corpora.yaml"


def rows_for_all(out: Path):
    from ingest import ingest_paths
    from rag import Assistant
    from rag.answering.verdict import FEATURES
    from rag.evaluation.calibration import collect, load_corpora
    from rag.settings import Settings

    rows = []
    for spec in load_corpora(MANIFEST):
        if not all(q.exists() for q in spec.questions):
            print(f"skipped {spec.name}: question file missing")
            continue
        s = Settings(data_dir=out / spec.name, chroma_url=None, corpus_dir=spec.docs, llm="extractive")
        rep = ingest_paths([spec.docs], s, progress=False)
        if rep.files_failed:
            raise SystemExit(f"{spec.name}: {rep.files_failed}")
        rows += collect(Assistant(s), spec, FEATURES)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="store the model fitted on every corpus")
    ap.add_argument("--out", default=str(ROOT / "out" / "calibration"))
    args = ap.parse_args()
    from rag.answering.verdict import FEATURES, MODEL_FILE
    from rag.evaluation.calibration import figures, fit, leave_one_corpus_out

    rows = rows_for_all(Path(args.out))
    loco = leave_one_corpus_out(rows, FEATURES)
    table = {c: {s: f.as_dict() for s, f in sets.items()} for c, sets in loco.items()}
    print(json.dumps(table, indent=1))
    model = fit(rows, FEATURES)
    fitted = {f"{c}/{s}": figures(model, [r for r in rows if r.corpus == c and r.set == s]).as_dict()
              for c, sets in loco.items() for s in sets}
    print("fitted on all (not a result):", json.dumps(fitted, indent=1))
    if args.write:
        model.update(fitted_on=[c for c in loco], questions=len(rows), leave_one_corpus_out=table)
        MODEL_FILE.write_text(json.dumps(model, indent=1) + "\n")
        print("wrote", MODEL_FILE)


if __name__ == "__main__":
    main()
