"""Cold `cadres ask`: process start to printed answer, beside `import sentence_transformers`.

    python -m bench.cold_ask [--runs 5] [--data-dir DIR] [--with-torch] [--spacy-without-torch]

Each run is a new process (`cadres ask "<question>"`, extractive) on a store holding docs_corpus/
(bench/.cache/docs-store, built once, or --data-dir). In the same run and interleaved with it
(so machine-load drift hits both alike): `python -c "import sentence_transformers"`, the cost the
ONNX query path (rag/onnx_encoder.py) exists to avoid. One untimed ask first makes the ONNX
graph (exported once into the data dir) and warms the OS file cache for both. --with-torch adds
`CADRES_QUERY_ENCODER=torch` asks; --spacy-without-torch adds asks whose spaCy import cannot see
torch (thinc, under spaCy, imports torch when installed: the largest import left on the path).
Prints a table: median (min, max) seconds, and the ratio of medians (target: < 0.6x the import).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import VENV_BIN, fmt, log, md_table, summarize

QUESTION = "Who were the Japanese specialists retained in China after 1945?"
TARGET = 0.6
_NO_TORCH_SPACY = """
import sys
sys.modules["torch"] = None  # `import torch` fails inside thinc.compat: has_torch = False
import spacy
del sys.modules["torch"]
from rag.cli.main import main
code = main(["ask", sys.argv[1]])
assert "torch" not in sys.modules, "torch was imported on the ask path"
raise SystemExit(code)
"""


def _timed(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    dt = time.perf_counter() - t0
    if p.returncode != 0 or (cmd[-1] == QUESTION and "[1]" not in p.stdout):
        raise SystemExit(f"{cmd[:3]} failed ({p.returncode}):\n{p.stdout[-1000:]}\n{p.stderr[-2000:]}")
    return dt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--data-dir", type=Path, help="an ingested store (default: the docs store)")
    ap.add_argument("--with-torch", action="store_true", help="also time CADRES_QUERY_ENCODER=torch")
    ap.add_argument(
        "--spacy-without-torch",
        action="store_true",
        help="also time an ask whose spaCy import cannot see torch (a proposed change)",
    )
    args = ap.parse_args(argv)

    if args.data_dir is None:
        from bench.common import docs_store

        data_dir = docs_store().data_dir
    else:
        data_dir = args.data_dir
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADRES_")}
    env.update(CADRES_DATA_DIR=str(Path(data_dir).resolve()), CADRES_LLM="extractive")
    cadres = str(VENV_BIN / "cadres")
    cases = {
        "cadres ask (query encoder auto/ONNX)": ([cadres, "ask", QUESTION], env),
        'python -c "import sentence_transformers"': (
            [sys.executable, "-c", "import sentence_transformers"],
            env,
        ),
    }
    if args.spacy_without_torch:
        # What rag/answering/nlp.py would cost if it imported spaCy with torch hidden (thinc
        # imports torch when it can; spaCy's CPU pipelines never use it).
        cases["cadres ask, spaCy imported without torch (proposed)"] = (
            [sys.executable, "-c", _NO_TORCH_SPACY, QUESTION],
            env,
        )
    if args.with_torch:
        cases["cadres ask (CADRES_QUERY_ENCODER=torch)"] = (
            [cadres, "ask", QUESTION],
            {**env, "CADRES_QUERY_ENCODER": "torch"},
        )
    log(f"warm-up ask (exports the ONNX graph into {data_dir}/onnx if missing)")
    _timed(*cases["cadres ask (query encoder auto/ONNX)"])
    times: dict[str, list[float]] = {name: [] for name in cases}
    for i in range(args.runs):
        for name, (cmd, e) in cases.items():
            times[name].append(_timed(cmd, e))
        log(f"run {i + 1}/{args.runs}: " + ", ".join(f"{v[-1]:.2f}s" for v in times.values()))
    stats = {name: summarize(v) for name, v in times.items()}
    base = stats['python -c "import sentence_transformers"']["median"]
    rows = [
        [name, fmt(s, 2, "s"), f"{s['median'] / base:.2f}x"] for name, s in stats.items()
    ]
    print(md_table(["process", f"wall, median (min, max) of {args.runs}", "vs import"], rows))
    ratio = stats["cadres ask (query encoder auto/ONNX)"]["median"] / base
    met = "met" if ratio < TARGET else "NOT met"
    print(f"\ncold ask / import sentence_transformers = {ratio:.2f} (target < {TARGET}: {met}); "
          f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
