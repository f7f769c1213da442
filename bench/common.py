"""Shared helpers for the benchmarks: timing, machine facts, results files, the cached corpus store.

Benchmarks are not tests: nothing here asserts on speed. Every figure is a median with its min and
max over repeated runs (or is labelled "1 run"), and ratios are taken between figures measured in
the same process run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "bench"
CACHE = BENCH_DIR / ".cache"
CORPUS = ROOT / "docs_corpus"
QUESTIONS = ROOT / "eval" / "dev_questions.jsonl"
RESULTS_JSON = BENCH_DIR / "results.json"
RESULTS_MD = BENCH_DIR / "results.md"
VENV_BIN = Path(sys.executable).parent

# The order of sections in results.md (the headline table follows it too).
ORDER = ["tutorial", "query", "ingest", "encode", "scale"]

for _k, _v in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_k, _v)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- statistics


def summarize(values: list[float]) -> dict:
    """{median, min, max, n} of the non-None values (None fields when there are none)."""
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def percentile(values: list[float], q: float) -> float | None:
    import numpy as np

    vals = [v for v in values if v is not None]
    return float(np.percentile(vals, q)) if vals else None


def repeat(fn: Callable[[], Any], n: int, warmup: int = 0) -> tuple[list[float], list[Any]]:
    """Run fn warmup + n times; seconds and results of the n measured runs."""
    for _ in range(warmup):
        fn()
    secs, outs = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        outs.append(fn())
        secs.append(time.perf_counter() - t0)
    return secs, outs


def _num(v: float | None, digits: int) -> str:
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}"


def _unit(unit: str) -> str:
    return unit if unit in ("×", "%") else (f" {unit}" if unit else "")


def _single(stat: dict | float | None, digits: int, u: str) -> str | None:
    """The text for a missing figure or a single run; None when stat has several runs to show."""
    if stat is None:
        return "n/a"
    if not isinstance(stat, dict):
        return f"{_num(stat, digits)}{u} (1 run)"
    if stat.get("median") is None:
        return "n/a"
    if stat.get("n", 1) <= 1:
        return f"{_num(stat['median'], digits)}{u} (1 run)"
    return None


def fmt(stat: dict | float | None, digits: int = 1, unit: str = "") -> str:
    """'12.3 ms (min 11.0, max 14.2, n=3)', or '12.3 ms (1 run)' when there is one value."""
    u = _unit(unit)
    if (one := _single(stat, digits, u)) is not None:
        return one
    return (
        f"{_num(stat['median'], digits)}{u} (min {_num(stat['min'], digits)}, "
        f"max {_num(stat['max'], digits)}, n={stat['n']})"
    )


def fmt_short(stat: dict | float | None, digits: int = 1, unit: str = "") -> str:
    """'12.3 ms [11.0-14.2]' for tables; '12.3 ms (1 run)' for a single value."""
    u = _unit(unit)
    if (one := _single(stat, digits, u)) is not None:
        return one
    return f"{_num(stat['median'], digits)}{u} [{_num(stat['min'], digits)}–{_num(stat['max'], digits)}]"


def md_table(header: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def verdict(met: bool | None) -> str:
    return "n/a" if met is None else ("yes" if met else "**no**")


# ---------------------------------------------------------------- machine and memory


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _version(pkg: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict:
    import torch

    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    mem_total = None
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total = round(int(line.split()[1]) / 1024 / 1024, 1)
    return {
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": affinity,
        "torch_threads": torch.get_num_threads(),
        "memory_gb": mem_total,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "packages": {
            p: _version(p)
            for p in (
                "torch", "sentence-transformers", "transformers", "chromadb", "bm25s", "onnxruntime",
                "onnx", "optimum", "langchain-chroma", "langchain-huggingface", "langchain-text-splitters",
            )
        },
    }


def rss_mb(pid: int | None = None, field_name: str = "VmRSS") -> float | None:
    """Resident memory of a process in MB from /proc (VmHWM = peak)."""
    try:
        for line in Path(f"/proc/{pid or 'self'}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        return None
    return None


def tree_rss_mb(pid: int) -> float | None:
    """RSS of a process plus its children (the chroma CLI may run the server in a child)."""
    total = rss_mb(pid)
    if total is None:
        return None
    with contextlib.suppress(OSError):
        for child in Path(f"/proc/{pid}/task").iterdir():
            kids = (child / "children").read_text().split()
            for k in kids:
                total += tree_rss_mb(int(k)) or 0.0
    return round(total, 1)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---------------------------------------------------------------- settings, questions, corpus


def bench_settings(data_dir: Path, *, chroma_url: str | None = None, collection: str = "cadres"):
    from rag.settings import Settings

    return Settings(
        data_dir=Path(data_dir), chroma_url=chroma_url, collection=collection, llm="extractive",
        corpus_dir=CORPUS,
    )


def dev_questions(limit: int | None = None):
    """The dev question set (all of it, or its first `limit` questions)."""
    from rag.evaluation import load_questions

    qs, errors = load_questions(QUESTIONS)
    if errors:
        log(f"{len(errors)} malformed question lines skipped")
    return qs[:limit] if limit else qs


def retrieval_query(q) -> str:
    """What both retrievers are asked: follow-ups combined with the earlier turn, as the product does."""
    from rag.answering.followup import combine_turns

    return combine_turns(q.question, q.history)


def scored(questions) -> list:
    """Questions that have a retrieval target: answerable with must_include strings."""
    return [q for q in questions if q.answerable and q.must_include]


def hit_stats(ranks: list[int | None]) -> dict:
    """hit@1/3/5/10, MRR and hit@5 misses from first-hit ranks (None = no hit in the depth)."""
    from rag.evaluation import metrics as m

    n = len(ranks)
    if not n:
        return {"n": 0}
    out = {f"hit@{k}": sum(m.hit_at(r, k) for r in ranks) / n for k in (1, 3, 5, 10)}
    out["mrr"] = sum(m.reciprocal_rank(r) for r in ranks) / n
    out["misses@5"] = sum(not m.hit_at(r, 5) for r in ranks)
    out["n"] = n
    return out


def first_hit(texts: list[str], needles: list[str]) -> int | None:
    from rag.evaluation import metrics as m

    return m.first_hit_rank(texts, needles)


def corpus_files() -> list[Path]:
    """The files the product ingests from docs_corpus/ (same discovery rules, .cadresignore honoured)."""
    from ingest.discovery import discover

    return [f.path for f in discover([CORPUS]).files]


def docs_store(rebuild: bool = False):
    """Settings of a store holding docs_corpus/, kept in bench/.cache/docs-store and reused.

    ingest_paths is incremental, so an up-to-date cache costs a manifest check only; a cache built
    with other chunk settings or another model is rebuilt.
    """
    from ingest import IngestFatal, ingest_paths

    settings = bench_settings(CACHE / "docs-store")
    t0 = time.perf_counter()
    try:
        rep = ingest_paths([CORPUS], settings, rebuild=rebuild, progress=False)
    except IngestFatal as e:
        if rebuild:
            raise
        log(f"cached docs store unusable ({e}); rebuilding")
        rep = ingest_paths([CORPUS], settings, rebuild=True, progress=False)
    if rep.files_added or rep.files_updated:
        log(f"docs store (re)built: {rep.chunks_total} chunks in {time.perf_counter() - t0:.1f} s")
    return settings


# ---------------------------------------------------------------- encode timing and fresh ingests


@dataclass
class EncodeTimer:
    seconds: float = 0.0
    calls: int = 0
    texts: int = 0


@contextlib.contextmanager
def encode_timer() -> Iterator[EncodeTimer]:
    """Time spent inside Embedder.encode and encode_with_spans (forward passes and tokenisation)."""
    from rag.embedding import Embedder

    timer = EncodeTimer()
    originals = {name: getattr(Embedder, name) for name in ("encode", "encode_with_spans")}
    depth = threading.local()  # encode_with_spans may call encode for a span past the window

    def wrap(original):
        def timed(self, texts, *args, **kwargs):
            outer = not getattr(depth, "n", 0)
            depth.n = getattr(depth, "n", 0) + 1
            t0 = time.perf_counter()
            try:
                return original(self, texts, *args, **kwargs)
            finally:
                depth.n -= 1
                if outer:
                    timer.seconds += time.perf_counter() - t0
                    timer.calls += 1
                    timer.texts += len(texts)

        return timed

    for name, original in originals.items():
        setattr(Embedder, name, wrap(original))
    try:
        yield timer
    finally:
        for name, original in originals.items():
            setattr(Embedder, name, original)


def warm_model(settings) -> float:
    """Load the embedding model (once per process); seconds it took (0 when already loaded)."""
    from rag.embedding import get_embedder

    emb = get_embedder(settings.embedding_model)
    if emb._model is not None:
        return 0.0
    t0 = time.perf_counter()
    emb.encode(["warm up"])
    return time.perf_counter() - t0


_INGEST_RUNS: dict[str, list[dict]] = {}


def fresh_ingest(paths: list[Path], tag: str, keep: bool = False) -> dict:
    """One ingest of `paths` into a new data dir under bench/.cache/runs; timings split by encode.

    The model is loaded before the clock starts (its load time is reported apart by the callers).
    """
    from ingest import ingest_paths
    from rag.store import forget_client

    data_dir = CACHE / "runs" / f"{tag}-{os.getpid()}-{time.time_ns()}"
    settings = bench_settings(data_dir)
    warm_model(settings)
    load0 = load_average()
    with encode_timer() as timer:
        t0 = time.perf_counter()
        rep = ingest_paths(paths, settings, progress=False)
        total = time.perf_counter() - t0
    forget_client(settings)
    if rep.files_failed:
        log(f"{len(rep.files_failed)} files failed in {tag}: {rep.files_failed[0].error}")
    run = {
        "seconds": total,
        "encode_seconds": timer.seconds,
        "other_seconds": total - timer.seconds,
        "other_share": (total - timer.seconds) / total if total else None,
        "encode_calls": timer.calls,
        "texts_encoded": timer.texts,
        "files": rep.files_added,
        "chunks": rep.chunks_added,
        "files_per_s": rep.files_added / total if total else None,
        "chunks_per_s": rep.chunks_added / total if total else None,
        "load_average_before": load0,
        "data_dir": str(data_dir) if keep else None,
    }
    if not keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    _INGEST_RUNS.setdefault(tag, []).append(run)
    return run


def ingest_runs(tag: str) -> list[dict]:
    """Fresh ingests of this tag already measured in this process (another bench may reuse them)."""
    return list(_INGEST_RUNS.get(tag, []))


def docs_ingest_runs(who: str) -> tuple[list[dict], str]:
    """docs_corpus ingests for a comparison: those the ingest benchmark of this run measured, else one fresh."""
    runs = ingest_runs("docs")
    if runs:
        return runs, "reused from the ingest benchmark of this run"
    log(f"{who}: one fresh ingest of docs_corpus with the product")
    return [fresh_ingest([CORPUS], "docs")], "1 run"


# ---------------------------------------------------------------- chroma server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ChromaServer:
    url: str
    proc: subprocess.Popen
    path: Path
    log_path: Path
    extra: dict = field(default_factory=dict)

    def rss_mb(self) -> float | None:
        return tree_rss_mb(self.proc.pid)


def _heartbeat(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def chroma_server(path: Path) -> Iterator[ChromaServer]:
    """`chroma run` on 127.0.0.1 and a free port, persisting in `path`; stopped on exit."""
    exe = VENV_BIN / "chroma"
    if not exe.exists():
        found = shutil.which("chroma")
        if not found:
            raise RuntimeError("the `chroma` server binary is not installed (.venv/bin/chroma missing)")
        exe = Path(found)
    path.mkdir(parents=True, exist_ok=True)
    log_path = path.parent / f"{path.name}.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADRES_")}
    with open(log_path, "wb") as logf:
        proc = subprocess.Popen(
            [str(exe), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
            stdout=logf, stderr=subprocess.STDOUT, env=env,
        )
    try:
        deadline = time.monotonic() + 120
        while not _heartbeat(url):
            if proc.poll() is not None:
                raise RuntimeError(f"chroma server exited with {proc.returncode}; log in {log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"chroma server did not answer on {url} within 120 s")
            time.sleep(0.2)
        yield ChromaServer(url=url, proc=proc, path=path, log_path=log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


# ---------------------------------------------------------------- results files


def section(
    name: str, title: str, markdown: str, data: dict, headline: list[dict], quick: bool
) -> dict:
    """One benchmark's results: a markdown body, raw data and headline rows.

    A headline row is {"metric", "value", "target", "met"} (met: True/False/None).
    """
    return {
        "name": name,
        "title": title,
        "markdown": markdown,
        "data": data,
        "headline": headline,
        "quick": quick,
        "finished": dt.datetime.now().isoformat(timespec="seconds"),
        "load_average_end": load_average(),
    }


def _load_results() -> dict:
    try:
        got = json.loads(RESULTS_JSON.read_text())
        if isinstance(got, dict) and isinstance(got.get("sections"), dict):
            return got
    except (OSError, ValueError):
        pass
    return {"sections": {}}


def reset_results() -> None:
    """Start the results files afresh (a full `python -m bench` run)."""
    for p in (RESULTS_JSON, RESULTS_MD):
        with contextlib.suppress(OSError):
            p.unlink()


def save_section(sec: dict, machine: dict | None = None) -> None:
    """Merge one section into bench/results.json and rewrite bench/results.md from all sections."""
    res = _load_results()
    res["sections"][sec["name"]] = sec
    res["machine"] = machine or res.get("machine") or machine_info()
    res["updated"] = dt.datetime.now().isoformat(timespec="seconds")
    res["command"] = " ".join([Path(sys.executable).name, *sys.argv])
    RESULTS_JSON.write_text(json.dumps(res, indent=2, default=_json_default) + "\n")
    RESULTS_MD.write_text(render_markdown(res))


def _json_default(o):
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:
        pass
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def render_markdown(res: dict) -> str:
    m = res.get("machine", {})
    secs = res.get("sections", {})
    names = [n for n in ORDER if n in secs] + [n for n in secs if n not in ORDER]
    quick = any(secs[n].get("quick") for n in names)
    lines = [
        "# cadres-qa benchmarks",
        "",
        f"Updated {res.get('updated', '?')} by `{res.get('command', '?')}`"
        + (" — **quick mode: small sizes and repeats, smoke-test figures only**" if quick else "")
        + ".",
        "",
        f"Machine: {m.get('cpu_model', '?')}, {m.get('usable_cores', '?')} usable cores, "
        f"torch threads {m.get('torch_threads', '?')}, {m.get('memory_gb', '?')} GB RAM, "
        f"Python {m.get('python', '?')}; load average at start {m.get('load_average', '?')} "
        "(other processes share the machine: a load above the core count inflates every time).",
        "",
        "Figures are medians with [min–max] over repeated runs, or marked (1 run); ratios compare "
        "figures measured in the same process run. Benchmarks are not tests: targets are reported, "
        "not asserted.",
        "",
        "## Headline",
        "",
    ]
    rows = []
    for n in names:
        for h in secs[n].get("headline", []):
            rows.append([secs[n]["title"], h["metric"], h["value"], h.get("target") or "", verdict(h.get("met"))])
    lines += [md_table(["benchmark", "metric", "value", "target", "met"], rows), ""]
    for n in names:
        s = secs[n]
        lines += [
            f"## {s['title']}",
            "",
            f"_Finished {s.get('finished', '?')}; load average then {s.get('load_average_end', '?')}"
            + ("; quick mode" if s.get("quick") else "")
            + "._",
            "",
            s["markdown"].rstrip(),
            "",
        ]
    pk = m.get("packages", {})
    lines += ["## Versions", "", ", ".join(f"{k} {v}" for k, v in pk.items() if v), ""]
    return "\n".join(lines)


def error_section(name: str, title: str, exc: BaseException, quick: bool) -> dict:
    import traceback

    tb = "".join(traceback.format_exception(exc))[-3000:]
    return section(
        name, title, f"**This benchmark failed**: `{type(exc).__name__}: {exc}`\n\n```\n{tb}\n```",
        {"error": f"{type(exc).__name__}: {exc}"},
        [{"metric": "run", "value": f"failed: {type(exc).__name__}", "target": "", "met": None}], quick,
    )


def standalone(name: str, title: str, run: Callable[..., dict], argv: list[str] | None = None) -> None:
    """`python -m bench.NAME [--quick] [--max-size N]`: run one benchmark and merge its section."""
    import argparse

    ap = argparse.ArgumentParser(prog=f"python -m bench.{name}")
    ap.add_argument("--quick", action="store_true", help="small sizes and repeats (smoke test)")
    ap.add_argument("--max-size", type=int, default=10_000, help="largest store size (scale only)")
    ap.add_argument("--keep-store", action="store_true", help="keep and reuse the grown store (scale only)")
    ap.add_argument("--modes", default="embedded,server", help="embedded and/or server, comma-separated (scale only)")
    args = ap.parse_args(argv)
    machine = machine_info()
    sec = run(quick=args.quick, max_size=args.max_size, keep_store=args.keep_store, modes=args.modes.split(","))
    save_section(sec, machine)
    print(sec["markdown"])
    log(f"results merged into {RESULTS_MD.relative_to(ROOT)} and {RESULTS_JSON.relative_to(ROOT)}")
