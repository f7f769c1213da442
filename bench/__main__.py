"""Run the benchmarks: `python -m bench [--quick] [--max-size N] [--only NAME,...]`.

Order: ingest, query, tutorial, encode, pdfs, scale (the later ones reuse the fresh docs_corpus ingests
measured by the first). Results go to bench/results.md (headline table first) and
bench/results.json, rewritten after every benchmark so a long run keeps what it has finished.
A benchmark that fails is reported in its section and the others still run (exit code 1 at the end).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from bench import common as c

BENCHES = ["ingest", "query", "tutorial", "encode", "pdfs", "scale"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes and repeats: a smoke run of a few minutes")
    ap.add_argument("--max-size", type=int, default=10_000, help="largest store in the scale benchmark (default 10,000; up to 1,000,000)")
    ap.add_argument("--only", default="", help=f"comma-separated subset of {','.join(BENCHES)}")
    args = ap.parse_args(argv)
    only = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in only if n not in BENCHES]
    if unknown:
        ap.error(f"unknown benchmark(s) {unknown}; choose from {BENCHES}")
    names = [n for n in BENCHES if not only or n in only]
    if not only:
        c.reset_results()  # a full run replaces every section; --only merges into the existing files
    machine = c.machine_info()
    c.log(f"machine: {machine['cpu_model']}, {machine['usable_cores']} cores, torch threads {machine['torch_threads']}, load {machine['load_average']}")
    failed = []
    for name in names:
        mod = importlib.import_module(f"bench.{name}")
        c.log(f"=== {name} ===")
        t0 = time.perf_counter()
        try:
            sec = mod.run(quick=args.quick, max_size=args.max_size)
        except Exception as e:  # reported in the results, the other benchmarks still run
            c.log(f"{name} failed: {type(e).__name__}: {e}")
            sec = c.error_section(name, mod.TITLE, e, args.quick)
            failed.append(name)
        sec["wall_s"] = time.perf_counter() - t0
        c.save_section(sec, machine)
        c.log(f"{name} done in {sec['wall_s']:.0f} s")
    print(c.RESULTS_MD.read_text())
    c.log(f"wrote {c.RESULTS_MD.relative_to(c.ROOT)} and {c.RESULTS_JSON.relative_to(c.ROOT)}")
    if failed:
        c.log(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
