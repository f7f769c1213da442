"""Answer chain speed: warm `Assistant.ask` latency (extractive) and cold start to a first answer.

    python -m bench.query [--quick]

Warm: the dev questions go through `ask` once to warm every cache, then again for the measured
passes (3; quick: 1). p50/p95 are taken over the questions of one pass; the table gives the median
of the passes with their min and max. The split uses the product's own `timings_ms`.
Cold: a fresh `python -c` subprocess imports the package, opens the store and answers one question
(median of 3; quick: 1). The OS page cache is warm by then, as on a server restart.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from bench import common as c

NAME, TITLE = "query", "Answer chain speed (extractive ask)"
TARGET_P50_MS, TARGET_P95_MS, TARGET_COLD_S = 100.0, 250.0, 10.0
PARTS = ["embed_query", "dense", "lexical", "fuse", "retrieve", "answer", "total"]

COLD_CODE = """
import time
t = time.perf_counter()
import json, sys
from pathlib import Path
from rag import Assistant, Settings
s = Settings(data_dir=Path(sys.argv[1]), chroma_url=None, llm="extractive")
ans = Assistant(s).ask(sys.argv[2])
print(json.dumps({"in_process_s": time.perf_counter() - t, "refused": ans.refused}))
"""


def warm_passes(settings, questions, passes: int) -> list[dict]:
    """Per measured pass: every question's timings_ms plus the wall time of the ask call."""
    from rag import Assistant

    qa = Assistant(settings)
    for q in questions:  # warm-up pass, not measured
        qa.ask(q.question, history=q.history or None)
    out = []
    for _ in range(passes):
        rows = []
        for q in questions:
            t0 = time.perf_counter()
            ans = qa.ask(q.question, history=q.history or None)
            rows.append({**ans.timings_ms, "wall": (time.perf_counter() - t0) * 1000, "refused": ans.refused})
        out.append({"rows": rows, "load_average": c.load_average()})
    return out


def cold_start(settings, question: str, repeats: int) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADRES_")}
    env["PYTHONPATH"] = str(c.ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        p = subprocess.run(
            [sys.executable, "-c", COLD_CODE, str(settings.data_dir), question],
            cwd=c.ROOT, env=env, capture_output=True, text=True, timeout=600,
        )
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            raise RuntimeError(f"cold-start subprocess failed ({p.returncode}): {p.stderr[-2000:]}")
        got = json.loads(p.stdout.strip().splitlines()[-1])
        runs.append({"wall_s": wall, "in_process_s": got["in_process_s"]})
    return runs


def run(quick: bool = False, **_) -> dict:
    settings = c.docs_store()
    questions = c.dev_questions(limit=30 if quick else None)
    passes = 1 if quick else 3
    cold_repeats = 1 if quick else 3

    c.log(f"query: warm ask, {len(questions)} questions, 1 warm-up + {passes} measured passes")
    measured = warm_passes(settings, questions, passes)
    per_pass = []
    for p in measured:
        rows = p["rows"]
        d = {f"{part}_median": c.percentile([r.get(part) for r in rows], 50) for part in PARTS}
        d["p50"] = c.percentile([r["total"] for r in rows], 50)
        d["p95"] = c.percentile([r["total"] for r in rows], 95)
        d["max"] = max(r["total"] for r in rows)
        d["wall_p50"] = c.percentile([r["wall"] for r in rows], 50)
        per_pass.append(d)
    agg = {k: c.summarize([d[k] for d in per_pass]) for k in per_pass[0]}

    c.log(f"query: cold start x{cold_repeats}")
    cold = cold_start(settings, questions[0].question, cold_repeats)
    cold_wall = c.summarize([r["wall_s"] for r in cold])
    cold_in = c.summarize([r["in_process_s"] for r in cold])

    split_rows = [[part, c.fmt_short(agg[f"{part}_median"], 1, "ms")] for part in PARTS]
    md = [
        f"{len(questions)} dev questions (follow-ups with their history), store = docs_corpus "
        f"({c.load_average()} load average at the end). p50/p95 per pass over the questions; "
        f"median [min–max] over {passes} measured pass(es) after 1 warm-up pass.",
        "",
        c.md_table(
            ["measure", "value", "target"],
            [
                ["ask p50 (timings_ms.total)", c.fmt_short(agg["p50"], 1, "ms"), f"≤ {TARGET_P50_MS:.0f} ms"],
                ["ask p95", c.fmt_short(agg["p95"], 1, "ms"), f"≤ {TARGET_P95_MS:.0f} ms"],
                ["ask slowest question", c.fmt_short(agg["max"], 1, "ms"), ""],
                ["ask p50, wall around the call", c.fmt_short(agg["wall_p50"], 1, "ms"), ""],
                ["cold start to first answer (subprocess wall)", c.fmt(cold_wall, 2, "s"), f"≤ {TARGET_COLD_S:.0f} s"],
                ["cold start, measured inside the process", c.fmt(cold_in, 2, "s"), ""],
            ],
        ),
        "",
        "Split (median per question of each stage; `retrieve` = embed_query + dense + lexical + fuse + passage assembly):",
        "",
        c.md_table(["stage", "median"], split_rows),
    ]
    p50, p95, cold_med = agg["p50"]["median"], agg["p95"]["median"], cold_wall["median"]
    headline = [
        {"metric": "warm ask p50", "value": c.fmt_short(agg["p50"], 1, "ms"), "target": f"≤ {TARGET_P50_MS:.0f} ms", "met": p50 <= TARGET_P50_MS},
        {"metric": "warm ask p95", "value": c.fmt_short(agg["p95"], 1, "ms"), "target": f"≤ {TARGET_P95_MS:.0f} ms", "met": p95 <= TARGET_P95_MS},
        {"metric": "cold start to first answer", "value": c.fmt_short(cold_wall, 2, "s"), "target": f"≤ {TARGET_COLD_S:.0f} s", "met": cold_med <= TARGET_COLD_S},
    ]
    data = {"questions": len(questions), "passes": per_pass, "aggregate": agg, "cold": cold, "cold_wall": cold_wall, "cold_in_process": cold_in}
    return c.section(NAME, TITLE, "\n".join(md), data, headline, quick)


if __name__ == "__main__":
    c.standalone(NAME, TITLE, run)
