"""Load benchmark of the HTTP API (not a test): concurrent clients against `cadres serve` on loopback.

    .venv/bin/python -m bench.load                          # 20 clients x 500 requests, workers 1 then 2
    .venv/bin/python -m bench.load --clients 4 --requests 25  # a quick smoke

For each worker count it starts `cadres serve --workers N` on a free 127.0.0.1 port (rate limit
raised), waits until it is healthy and warm, sends untimed warm-up requests, then lets every client
send its requests one after another over one keep-alive connection. Reported: errors (any non-200,
transport error or answer without the expected fields), throughput and latency percentiles, as a
Markdown table and as JSON (bench/results/load.json). Exit status 1 when any request failed.

The store: CADRES_DATA_DIR (default .cadres); when it holds no store yet, docs_corpus/ is ingested
into it first (`cadres ingest`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "bench" / "results" / "load.json"
SERVE = "import sys; from rag.cli.main import main; sys.exit(main(sys.argv[1:]))"
QUESTIONS = [
    "Where were Japanese war criminals detained in China?",
    "When did the Khabarovsk trial take place?",
    "What happened at Huludao?",
    "How many Japanese were repatriated from the USSR?",
    "What was the democratic movement in the Soviet camps?",
    "Who were the retained Japanese in CCP service?",
    "When were the Shenyang and Taiyuan trials held?",
    "What is the boiling point of liquid nitrogen on Mars?",  # refused: also a valid answer
]


# ---------------------------------------------------------------- server
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADRES_")}
    env.update(
        CADRES_DATA_DIR=str(data_dir),
        CADRES_RATE_LIMIT_PER_MINUTE="1000000",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        TOKENIZERS_PARALLELISM="false",
    )
    for k in ("CADRES_CHROMA_URL", "CADRES_COLLECTION", "CADRES_LLM", "CADRES_REQUEST_TIMEOUT"):
        if os.environ.get(k):
            env[k] = os.environ[k]
    return env


def ensure_store(data_dir: Path) -> None:
    if os.environ.get("CADRES_CHROMA_URL") or (data_dir / "chroma").exists():
        return
    print(f"no store in {data_dir}: ingesting docs_corpus/ first (a few minutes) ...", flush=True)
    env = server_env(data_dir)
    subprocess.run(
        [sys.executable, "-m", "rag", "ingest", str(REPO_ROOT / "docs_corpus")],
        env=env,
        cwd=REPO_ROOT,
        check=True,
    )


class Server:
    def __init__(self, data_dir: Path, workers: int, log_dir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log = log_dir / f"serve-w{workers}.log"
        fh = open(self.log, "wb")  # noqa: SIM115 (handed to the child)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                SERVE,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            env=server_env(data_dir),
            cwd=REPO_ROOT,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
        fh.close()

    def wait_healthy(self, timeout: float) -> dict:
        import httpx

        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"cadres serve exited with {self.proc.returncode}; log: {self.log}"
                )
            try:
                r = httpx.get(f"{self.url}/v1/health", timeout=5)
                last = r.text
                if r.status_code == 200 and r.json().get("warm"):
                    return r.json()
            except httpx.HTTPError as e:
                last = repr(e)
            time.sleep(0.5)
        raise RuntimeError(
            f"cadres serve not healthy within {timeout:.0f} s (last: {last}); log: {self.log}"
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


# ---------------------------------------------------------------- load
def check_answer(r) -> str | None:
    if r.status_code != 200:
        return f"HTTP {r.status_code}: {r.text[:200]}"
    try:
        body = r.json()
    except ValueError:
        return "response is not JSON"
    if not isinstance(body.get("answer"), str) or "citations" not in body:
        return "answer without the expected fields"
    if not body.get("refused") and (not body["citations"] or "[1]" not in body["answer"]):
        return "an answer that is neither cited nor refused"
    return None


async def client_loop(
    url: str, cid: int, n: int, deadline: float, timeout: float, out: dict
) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=url, timeout=timeout) as http:
        for i in range(n):
            if time.monotonic() > deadline:
                out["unsent"] += n - i
                return
            q = QUESTIONS[(cid + i) % len(QUESTIONS)]
            t0 = time.perf_counter()
            try:
                r = await http.post("/v1/ask", json={"question": q})
                err = check_answer(r)
            except httpx.HTTPError as e:
                err = f"{type(e).__name__}: {e}"
            out["latencies"].append(time.perf_counter() - t0)
            if err:
                out["errors"] += 1
                if len(out["samples"]) < 5:
                    out["samples"].append(err)


async def run_load(
    url: str, clients: int, requests: int, max_seconds: float, timeout: float
) -> dict:
    out = {"latencies": [], "errors": 0, "samples": [], "unsent": 0}
    t0 = time.perf_counter()
    deadline = time.monotonic() + max_seconds
    await asyncio.gather(
        *(client_loop(url, c, requests, deadline, timeout, out) for c in range(clients))
    )
    out["seconds"] = time.perf_counter() - t0
    return out


def pct(sorted_vals: list[float], p: float) -> float:
    if not sorted_vals:
        return float("nan")
    k = (len(sorted_vals) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (k - lo)


def summarise(workers: int, clients: int, requests: int, raw: dict) -> dict:
    lat = sorted(raw["latencies"])
    done = len(lat)
    return {
        "workers": workers,
        "clients": clients,
        "requests_per_client": requests,
        "requests_planned": clients * requests,
        "requests_done": done,
        "requests_unsent": raw["unsent"],
        "errors": raw["errors"],
        "zero_errors": raw["errors"] == 0 and raw["unsent"] == 0,
        "error_samples": raw["samples"],
        "seconds": round(raw["seconds"], 2),
        "throughput_rps": round(done / raw["seconds"], 2) if raw["seconds"] else 0.0,
        "latency_ms": {
            "p50": round(pct(lat, 50) * 1000, 1),
            "p95": round(pct(lat, 95) * 1000, 1),
            "p99": round(pct(lat, 99) * 1000, 1),
            "mean": round(sum(lat) / done * 1000, 1) if done else None,
            "max": round(lat[-1] * 1000, 1) if lat else None,
        },
    }


def markdown(results: list[dict]) -> str:
    lines = [
        "| workers | clients x requests | done | errors | zero errors | req/s | p50 ms | p95 ms | p99 ms |",
        "|---:|---:|---:|---:|:---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lat = r["latency_ms"]
        lines.append(
            f"| {r['workers']} | {r['clients']} x {r['requests_per_client']} | {r['requests_done']} | {r['errors']} "
            f"| {'yes' if r['zero_errors'] else 'NO'} | {r['throughput_rps']} | {lat['p50']} | {lat['p95']} | {lat['p99']} |"
        )
    return "\n".join(lines)


def bench_one(args, data_dir: Path, workers: int) -> dict:
    import httpx

    server = Server(data_dir, workers, args.out.parent / "logs")
    try:
        health = server.wait_healthy(args.startup_timeout)
        if not health.get("chunks"):
            raise RuntimeError(f"the store in {data_dir} is empty: run `cadres ingest` first")
        # Untimed warm-up: every worker loads its model and lexical index on its first requests.
        with httpx.Client(base_url=server.url, timeout=args.timeout) as http:
            for i in range(max(args.warmup, workers * 4)):
                http.post(
                    "/v1/ask", json={"question": QUESTIONS[i % len(QUESTIONS)]}
                ).raise_for_status()
        print(
            f"workers={workers}: {args.clients} clients x {args.requests} requests on {server.url} ...",
            flush=True,
        )
        raw = asyncio.run(
            run_load(server.url, args.clients, args.requests, args.max_seconds, args.timeout)
        )
        return summarise(workers, args.clients, args.requests, raw)
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    p.add_argument("--requests", type=int, default=500, help="requests per client (default 500)")
    p.add_argument(
        "--workers", default="1,2", help="worker counts to compare, comma-separated (default 1,2)"
    )
    p.add_argument("--warmup", type=int, default=8, help="untimed requests before each run")
    p.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds per request before it counts as an error",
    )
    p.add_argument(
        "--max-seconds",
        type=float,
        default=3600.0,
        help="stop a run after this long (unsent = error)",
    )
    p.add_argument("--startup-timeout", type=float, default=300.0)
    p.add_argument(
        "--out", type=Path, default=RESULTS, help="JSON results (default bench/results/load.json)"
    )
    args = p.parse_args(argv)
    if args.clients < 1 or args.requests < 1:
        p.error("--clients and --requests must be at least 1")
    workers = [int(w) for w in args.workers.split(",") if w.strip()]

    data_dir = Path(os.environ.get("CADRES_DATA_DIR") or REPO_ROOT / ".cadres").resolve()
    ensure_store(data_dir)
    results = []
    for w in workers:
        results.append(bench_one(args, data_dir, w))
        print(markdown(results[-1:]), flush=True)  # each pass shows as soon as it ends

    report = {
        "benchmark": "HTTP API load: POST /v1/ask on loopback",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_avg_1m_at_end": round(os.getloadavg()[0], 2)
            if hasattr(os, "getloadavg")
            else None,
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "store": os.environ.get("CADRES_CHROMA_URL") or str(data_dir),
        "questions": QUESTIONS,
        "results": results,
        "markdown": markdown(results),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(report["markdown"])
    print(f"\nJSON: {args.out}")
    for r in results:
        for s in r["error_samples"]:
            print(f"  error (workers={r['workers']}): {s}", file=sys.stderr)
    return 0 if all(r["zero_errors"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
