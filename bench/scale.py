"""Retrieval at scale: latency, memory and hit@5 with 1k to 1M chunks, embedded and Chroma-server mode.

    python -m bench.scale [--quick] [--max-size N]      (default N = 10,000; `make bench` may pass 1000000)

The store holds the real docs_corpus chunks (copied with their vectors from the cached docs store)
plus synthetic distractor chunks added straight into the chunks collection:
  - text: 80-160 words, half drawn from the corpus's own word frequencies, half from a Zipf
    distribution over the model's English word-piece vocabulary, 3% numbers; so BM25 has real
    posting lists (common corpus terms such as "Japanese" or "Soviet" hit many distractors);
  - vector: half "on topic" (a random mix of two real chunk vectors plus Gaussian noise, cosine
    ~0.3-0.7 to its sources), half random unit vectors (off topic); all normalised, 384-d.
Sizes grow in one store (1k, then 10k, ...), and at each size the lexical index is rebuilt from the
store as ingest does (bump the generation, then the incremental `rag.lexical` sync), a fresh Searcher is
opened and the dev queries are run: one warm-up pass, then measured passes. Each mode runs in its own
subprocess so its memory is its own; the Chroma server (`chroma run`, 127.0.0.1, a free port) is
started and stopped by the benchmark. Sizes above --max-size are skipped with a note.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from bench import common as c

NAME, TITLE = "scale", "Retrieval at scale (1k → 1M chunks)"
SIZES = [1_000, 10_000, 100_000, 1_000_000]
QUICK_CAP = 10_000
P95_TARGET_MS = 100.0
K = 5
DISTRACTOR_VERSION = "2"


# ---------------------------------------------------------------- distractors


class Distractors:
    def __init__(self, corpus_texts: list[str], corpus_vecs: np.ndarray, vocab_file: Path | None, seed: int = 11):
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        counts = Counter(w for t in corpus_texts for w in re.findall(r"[A-Za-z][A-Za-z'-]+", t))
        self.cw = np.array(list(counts), dtype=object)
        p = np.array([counts[w] for w in self.cw], dtype=np.float64)
        self.cp = p / p.sum()
        general: list[str] = []
        if vocab_file and vocab_file.exists():
            general = [w for w in vocab_file.read_text(encoding="utf-8").split() if w.isalpha() and w.isascii() and len(w) >= 3]
        if not general:
            general = list(self.cw)
        general = list(self.rng.permutation(np.array(general, dtype=object)))
        self.gw = np.array(general, dtype=object)
        z = 1.0 / (np.arange(len(self.gw)) + 20.0)
        self.gp = z / z.sum()
        self.vecs = corpus_vecs.astype(np.float32)
        self.dim = corpus_vecs.shape[1]

    def batch(self, start: int, n: int) -> tuple[list[str], list[str], list[dict], np.ndarray]:
        """Distractors start .. start+n-1; the same for the same start in any process."""
        rng = np.random.default_rng([self.seed, start])
        lengths = rng.integers(80, 161, n)
        total = int(lengths.sum())
        from_corpus = rng.random(total) < 0.5
        words = np.where(from_corpus, self.cw[rng.choice(len(self.cw), total, p=self.cp)], self.gw[rng.choice(len(self.gw), total, p=self.gp)])
        numbers = rng.random(total) < 0.03
        if numbers.any():
            words[numbers] = rng.integers(1, 2030, int(numbers.sum())).astype(str).astype(object)
        bounds = np.concatenate([[0], np.cumsum(lengths)])
        texts = [" ".join(words[bounds[i] : bounds[i + 1]].tolist()).capitalize() + "." for i in range(n)]
        ids, metas = [], []
        source = f"synthetic/batch-{start:07d}"  # one manifest entry per batch, as ingest writes one per file
        for i in range(n):
            g = start + i
            doc = g // 10
            ids.append(f"distractor-{g:07d}")
            metas.append({
                "doc_id": f"distractor-{doc}", "source": source, "chunk_index": g % 10,
                "title": f"Synthetic document {doc}", "authors": "", "source_type": "synthetic",
                "year": 1900 + doc % 125, "tokens": int(lengths[i]), "sentences": "[]", "content_hash": f"{source}-v{DISTRACTOR_VERSION}",
            })
        on_topic = rng.random(n) < 0.5
        a = rng.uniform(0.3, 1.0, (n, 1))
        b = rng.uniform(0.0, 0.6, (n, 1))
        i1 = rng.integers(0, len(self.vecs), n)
        i2 = rng.integers(0, len(self.vecs), n)
        noise = rng.standard_normal((n, self.dim)).astype(np.float32) / np.sqrt(self.dim)
        sigma = rng.uniform(0.7, 1.5, (n, 1))
        near = a * self.vecs[i1] + b * self.vecs[i2] + sigma * noise
        vecs = np.where(on_topic[:, None], near, noise).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        return ids, texts, metas, vecs


# ---------------------------------------------------------------- worker (one mode, one process)


def dir_mb(path: Path) -> float:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(root, f))
    return round(total / 1e6, 1)


def corpus_rows(src) -> tuple[list, dict]:
    """The docs store's chunks as typed records, sorted by id (the distractor vocabulary depends on
    it), with their vectors and sentence vectors; and its manifest."""
    records = sorted(src.get_chunks(vectors=True), key=lambda r: r.chunk_id)
    return records, src.manifest()


def copy_corpus(rows, dst) -> None:
    """The docs store's chunks and manifest copied into dst, vectors included: nothing is re-embedded."""
    records, manifest = rows
    dst.chunks(create=True, for_write=True)
    dst.write_chunks(records)
    for source, entry in manifest.items():
        dst.put_file(source, entry)


def measure(settings, store, emb, questions, passes: int, server: bool) -> dict:
    """Sync the lexical index as ingest (embedded) or a replica (server) does, then time the dev queries.

    The sync is incremental: it tokenises only the chunks added since the previous size. Then a
    fresh Searcher opens the saved index, as a restarted process does.
    """
    from rag import lexical
    from rag.retrieval.searcher import Searcher

    out: dict = {"chunks": store.count(), "rss_before_index_mb": c.rss_mb()}
    before = lexical.load(settings.lexical_dir)
    with contextlib.suppress(OSError):  # restart the peak (VmHWM) at the current RSS: the sync's own peak
        Path("/proc/self/clear_refs").write_text("5")
    t0 = time.perf_counter()
    lex = lexical.current(store, settings.lexical_dir)
    out["lexical_sync_s"] = time.perf_counter() - t0
    out["lexical_sync_peak_rss_mb"] = c.rss_mb(field_name="VmHWM")
    out["lexical_synced_chunks"] = len(lex) - (len(before) if before else 0)
    out["lexical_segments"] = lex.num_segments
    out["rss_after_sync_mb"] = c.rss_mb()
    del lex, before
    gc.collect()
    searcher = Searcher(settings, emb, store)
    t0 = time.perf_counter()
    searcher.lexical()  # the saved tantivy index at this generation (memory-mapped)
    out["searcher_open_s"] = time.perf_counter() - t0
    out["bm25_matrix_mb"] = dir_mb(settings.lexical_dir)
    queries = [c.retrieval_query(q) for q in questions]
    for qtext in queries:
        searcher.search(qtext, K)
    per_pass, ranks = [], []
    for p in range(passes):
        rows = []
        for q, qtext in zip(questions, queries, strict=True):
            t0 = time.perf_counter()
            r = searcher.search(qtext, K)
            wall = (time.perf_counter() - t0) * 1000
            rows.append({**r.timings_ms, "wall": wall, "store": wall - r.timings_ms.get("embed_query", 0.0)})
            if p == 0 and q.answerable and q.must_include:
                ranks.append(c.first_hit([x.text for x in r.passages], q.must_include))
        d = {"p50": c.percentile([r["wall"] for r in rows], 50), "p95": c.percentile([r["wall"] for r in rows], 95)}
        for part in ("store", "embed_query", "dense", "lexical", "lexical_wait", "fuse"):
            d[f"{part}_p50"] = c.percentile([r.get(part) for r in rows], 50)
            d[f"{part}_p95"] = c.percentile([r.get(part) for r in rows], 95)
        per_pass.append(d)
    out["passes"] = per_pass
    out["agg"] = {k: c.summarize([d[k] for d in per_pass]) for k in per_pass[0]}
    out["hits"] = c.hit_stats(ranks)
    out["rss_mb"] = c.rss_mb()
    out["peak_rss_mb"] = c.rss_mb(field_name="VmHWM")
    out["load_average"] = c.load_average()
    return out


def worker(mode: str, data_dir: Path, size: int, n_questions: int | None, passes: int, out_path: Path) -> None:
    """One size in one mode, in its own process (so RSS and peak RSS are this measurement's own).

    embedded: opens the store in data_dir (creating it with the corpus on first use), grows it to
    `size` chunks with distractors (0 = corpus only), rebuilds the lexical index as ingest does,
    then measures. server: serves the same Chroma folder with `chroma run` and measures through
    HTTP, with its own local data dir kept across sizes, so its lexical index catches up from the
    server as a long-running replica's does (from nothing at the first size).
    """
    from rag.embedding import get_embedder
    from rag.store import FileEntry, Store

    src_settings = c.docs_store()
    emb = get_embedder(src_settings.embedding_model)
    emb.encode(["warm up"])
    rows = corpus_rows(Store(src_settings, emb.fingerprint))
    questions = c.dev_questions(limit=n_questions)
    import torch

    result: dict = {"mode": mode, "target_size": size, "rss_start_mb": c.rss_mb(), "torch_threads": torch.get_num_threads()}
    if mode == "embedded":
        settings = c.bench_settings(data_dir, collection="scale")
        store = Store(settings, emb.fingerprint)
        if not store.exists():
            copy_corpus(rows, store)
        n_real = len(rows[0])
        have = store.count()
        need = max(0, size - have)
        gen = Distractors([r.text for r in rows[0]], np.vstack([r.vector for r in rows[0]]), Path(settings.embedding_model) / "vocab.txt")
        col = store.chunks()
        max_batch = max(1, min(5000, store.client.get_max_batch_size()))
        gen_s = add_s = 0.0
        start = have - n_real
        while need > 0:
            n = min(max_batch, need)
            t0 = time.perf_counter()
            ids, docs, metas, v = gen.batch(start, n)
            gen_s += time.perf_counter() - t0
            t0 = time.perf_counter()
            # Straight into the collection: a plain add, without the upsert's existence check that
            # Store.write_chunks makes, keeps growing the store by 900,000 rows to about an hour.
            col.add(ids=ids, documents=docs, metadatas=metas, embeddings=v)
            src = metas[0]["source"]
            store.put_file(src, FileEntry(doc_id=src, content_hash=metas[0]["content_hash"], n_chunks=n))
            add_s += time.perf_counter() - t0
            start += n
            need -= n
        result.update(distractors=store.count() - n_real, added=max(0, size - have), generate_s=gen_s, add_s=add_s)
        if add_s:
            result["add_rate_per_s"] = max(0, size - have) / add_s
        if need == 0 and size > have:
            store.bump_generation()  # as an ingest that changed the store does
        c.log(f"scale[embedded]: {store.count():,} chunks ({result['added']:,} added in {add_s:.1f} s); measuring")
        result.update(measure(settings, store, emb, questions, passes, server=False))
        result["store_disk_mb"] = dir_mb(settings.chroma_path)
        result["lexical_disk_mb"] = dir_mb(settings.lexical_dir)
    else:
        replica_dir = data_dir.parent / f"{data_dir.name}-replica"
        with c.chroma_server(c.bench_settings(data_dir).chroma_path) as srv:
            settings = c.bench_settings(replica_dir, chroma_url=srv.url, collection="scale")
            store = Store(settings, emb.fingerprint)
            c.log(f"scale[server]: {store.count():,} chunks; measuring")
            result.update(measure(settings, store, emb, questions, passes, server=True))
            result["server_rss_mb"] = srv.rss_mb()
            result["server_peak_rss_mb"] = c.rss_mb(srv.proc.pid, "VmHWM")
    out_path.write_text(json.dumps(result, default=c._json_default))


# ---------------------------------------------------------------- driver


def run(quick: bool = False, max_size: int = 10_000, keep_store: bool = False, modes=("embedded", "server"), **_) -> dict:
    """keep_store: reuse the store a previous --keep-store run left (sizes it already passed are
    skipped, so a code change can be re-measured at 1M without adding 900k distractors again).
    modes: ["embedded"] skips the Chroma-server replica (half the time)."""
    cap = min(max_size, QUICK_CAP) if quick else max_size
    sizes = [s for s in SIZES if s <= cap]
    skipped = [s for s in SIZES if s > cap]
    n_questions = 30 if quick else None
    passes = 1 if quick else 3
    c.docs_store()  # built here once, not by the workers
    data_dir = c.CACHE / "scale" / "store"
    reached_file = data_dir.parent / "reached.json"
    reached = json.loads(reached_file.read_text()) if keep_store and reached_file.exists() else None
    if reached is None:
        shutil.rmtree(data_dir.parent, ignore_errors=True)
        data_dir.mkdir(parents=True)
    else:
        done = [s for s in sizes if s < reached]
        sizes = [s for s in sizes if s >= reached]
        c.log(f"scale: reusing the kept store ({reached:,} chunks reached); not re-measured: {done}")
    results: dict[str, dict] = {m: {"sizes": []} for m in ("embedded", "server") if m in modes}
    for size in ([0, *done] if reached is not None else []):
        for mode in results:  # the kept run's figures for the sizes it passed, marked as such
            f = data_dir.parent / f"{mode}-{size}.json"
            if f.exists():
                _record(results[mode], size, {**json.loads(f.read_text()), "earlier_run": True})
    env = {**os.environ, "PYTHONPATH": str(c.ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    t_start = time.perf_counter()
    try:
        for size in ([] if reached is not None else [0]) + sizes:
            for mode in results:
                out = c.CACHE / "scale" / f"{mode}-{size}.json"
                cmd = [sys.executable, "-m", "bench.scale", "--worker", mode, "--data", str(data_dir), "--size", str(size),
                       "--passes", str(passes), "--out", str(out)]
                if n_questions:
                    cmd += ["--questions", str(n_questions)]
                c.log(f"scale: {mode} mode, {'corpus only' if not size else f'{size:,} chunks'} (subprocess)")
                t0 = time.perf_counter()
                p = subprocess.run(cmd, cwd=c.ROOT, env=env)
                if p.returncode != 0 or not out.exists():
                    results[mode]["error"] = f"the worker for {size:,} chunks exited with {p.returncode}"
                    if mode == "embedded":
                        raise RuntimeError(results[mode]["error"])
                    continue
                got = json.loads(out.read_text())
                got["worker_wall_s"] = time.perf_counter() - t0
                _record(results[mode], size, got)
                if mode == "embedded" and keep_store:
                    reached_file.write_text(json.dumps(size))
    except RuntimeError as e:
        c.log(f"scale: stopped early: {e}")
    finally:
        if not keep_store:
            shutil.rmtree(data_dir.parent, ignore_errors=True)
    return report(results, sizes, skipped, passes, quick, time.perf_counter() - t_start)


def _record(res: dict, size: int, got: dict) -> None:
    """One worker's figures into its mode's results: size 0 is the corpus-only baseline."""
    if size == 0:
        res["none"] = got
    else:
        res["sizes"].append(got)


def report(results: dict, sizes: list[int], skipped: list[int], passes: int, quick: bool, wall_s: float) -> dict:
    header = [
        "mode", "chunks", "search p50", "search p95", "w/o query embedding p50", "w/o query embedding p95",
        "dense p50", "lexical p50", "lexical p95", "lexical wait p95", "fuse p50",
        "hit@5", "BM25 sync s (chunks tokenised) / open s", "sync peak RSS MB", "BM25 index MB", "bench RSS MB (peak)", "server RSS MB", "store MB", "add rate /s",
    ]
    rows, headline, notes = [], [], []
    for mode, res in results.items():
        entries = ([res["none"]] if res.get("none") else []) + res.get("sizes", [])
        for m in entries:
            a = m["agg"]
            build = f"{m.get('lexical_sync_s', 0):.2f} ({m.get('lexical_synced_chunks', 0):,}) / {m.get('searcher_open_s', 0):.2f}"
            rows.append([
                mode, f"{m['chunks']:,}" + (" (kept run)" if m.get("earlier_run") else ""), c.fmt_short(a["p50"], 1, "ms"), c.fmt_short(a["p95"], 1, "ms"),
                c.fmt_short(a["store_p50"], 1, "ms"), c.fmt_short(a["store_p95"], 1, "ms"),
                c.fmt_short(a["dense_p50"], 1), c.fmt_short(a["lexical_p50"], 1), c.fmt_short(a["lexical_p95"], 1),
                c.fmt_short(a.get("lexical_wait_p95"), 1),
                c.fmt_short(a["fuse_p50"], 1), f"{m['hits'].get('hit@5', 0) * 100:.1f}%", build, m.get("lexical_sync_peak_rss_mb", ""), m.get("bm25_matrix_mb", ""),
                f"{m.get('rss_mb')} ({m.get('peak_rss_mb')})", m.get("server_rss_mb", "—") if mode == "server" else "—",
                m.get("store_disk_mb", "same folder") if mode == "embedded" else "same folder",
                f"{m['add_rate_per_s']:,.0f}" if m.get("add_rate_per_s") else "",
            ])
        if res.get("error"):
            notes.append(f"**{mode} mode: {res['error']}.**")
        largest = res.get("sizes", [])[-1] if res.get("sizes") else None
        if largest:
            p95 = largest["agg"]["p95"]
            at_1m = largest["chunks"] >= 1_000_000
            headline.append({
                "metric": f"{mode}: search p95 at {largest['chunks']:,} chunks",
                "value": c.fmt_short(p95, 1, "ms") + f" (without the query embedding {largest['agg']['store_p95']['median']:.1f} ms; "
                f"lexical p95 {largest['agg']['lexical_p95']['median']:.1f} ms; BM25 sync of the last {largest.get('lexical_synced_chunks', 0):,} chunks {largest.get('lexical_sync_s', 0):.0f} s)",
                "target": f"< {P95_TARGET_MS:.0f} ms at 1M",
                "met": (p95["median"] < P95_TARGET_MS) if at_1m else None,
            })
        none = res.get("none")
        at100 = next((m for m in res.get("sizes", []) if m["chunks"] >= 100_000), None)
        if none and at100 and mode == "embedded":
            headline.append({
                "metric": f"hit@5 with {at100['distractors']:,} distractors vs none",
                "value": f"{at100['hits']['hit@5'] * 100:.1f}% vs {none['hits']['hit@5'] * 100:.1f}%",
                "target": "", "met": None,
            })
    threads = sorted({m.get("torch_threads") for r in results.values() for m in [r.get("none"), *r.get("sizes", [])] if m and m.get("torch_threads")})
    md = [
        f"Torch threads for the query embedding: {', '.join(map(str, threads)) or '?'} (`CADRES_TORCH_THREADS`; one thread "
        "keeps the figures steady when anything else runs on the second core, and is what `cadres serve` workers use).",
        "",
        f"Search = `Searcher.search(query, k={K})` (embed query then Chroma dense top-30, with BM25 top-30 running beside "
        "them in a second thread from 50,000 rows up and inline below; then RRF and MMR), wall time per "
        f"query in ms; p50/p95 over the dev queries of a pass, median [min–max] over {passes} measured pass(es) after a "
        "warm-up pass. \"w/o query embedding\" = search minus its embed_query stage (the part that depends on the store). "
        "lexical = BM25's own time in its thread; lexical wait = what of it outlasted embedding plus dense search. "
        "Stage columns are in ms. hit@5 = top-5 chunks hold every must_include string "
        "(first measured pass). BM25 sync = `rag.lexical.current`, what ingest runs after writing and a replica runs when "
        "the store's generation moves: it tokenises only the chunks of sources added or changed since the index's last sync "
        "(here the distractors added since the previous size; in server mode the replica keeps its own index folder across "
        "sizes). open = a fresh Searcher opening the saved index (tantivy, memory-mapped). sync peak RSS = the process's "
        "peak during the sync alone (VmHWM reset before it). BM25 index MB = the tantivy folder on disk. RSS from /proc (VmRSS; peak = VmHWM of the mode's "
        "process); the server's RSS includes its children. Each (size, mode) is measured in its own process; the server "
        "serves the very Chroma folder the embedded run just grew (add rate = distractors added per s in embedded mode).",
        "",
        c.md_table(header, rows),
    ]
    if any(m.get("earlier_run") for r in results.values() for m in [r.get("none"), *r.get("sizes", [])] if m):
        md += ["", "Rows marked \"kept run\" were measured by the earlier `--keep-store` run that grew the store "
               "(its code); this run re-measured only the sizes from the kept store's size up."]
    if skipped:
        md += ["", f"Skipped (above --max-size{' or the quick cap' if quick else ''}): {', '.join(f'{s:,}' for s in skipped)} chunks. "
               "Run `python -m bench.scale --max-size 1000000` for them."]
    md += ["", *notes, *diagnosis(results)]
    md += ["", f"Whole benchmark: {wall_s / 60:.1f} min."]
    data = {"sizes": sizes, "skipped": skipped, "results": results, "wall_s": wall_s}
    return c.section(NAME, TITLE, "\n".join(x for x in md if x is not None), data, headline, quick)


def med(m: dict, key: str) -> float:
    return m["agg"][key]["median"] or 0.0


def _to_1m(first: dict, last: dict, value) -> float:
    """Linear extrapolation of value(m) from the first and last measured sizes to 1M chunks (never decreasing)."""
    slope = max(0.0, (value(last) - value(first)) / (last["chunks"] - first["chunks"]))
    return value(last) + slope * (1_000_000 - last["chunks"])


def diagnosis(results: dict) -> list[str]:
    """Which stage grows with the store, with numbers; linear extrapolation to 1M of what grows linearly."""
    out = ["", "### What grows with the store"]
    for mode in ("embedded", "server"):
        res = results.get(mode, {})
        pts = [m for m in [res.get("none"), *res.get("sizes", [])] if m and m.get("agg")]
        if len(pts) < 2:
            continue
        first, last = pts[0], pts[-1]
        n0, n1 = first["chunks"], last["chunks"]

        line = (
            f"- {mode}: {n0:,} → {n1:,} chunks: search p95 {med(first, 'p95'):.1f} → {med(last, 'p95'):.1f} ms, of which "
            f"the store-dependent part (search minus query embedding) p95 {med(first, 'store_p95'):.1f} → {med(last, 'store_p95'):.1f} ms; "
            f"dense p50 {med(first, 'dense_p50'):.1f} → {med(last, 'dense_p50'):.1f} ms; lexical p50/p95 "
            f"{med(first, 'lexical_p50'):.1f}/{med(first, 'lexical_p95'):.1f} → {med(last, 'lexical_p50'):.1f}/{med(last, 'lexical_p95'):.1f} ms; "
            f"BM25 sync {first.get('lexical_sync_s', 0):.1f} s ({first.get('lexical_synced_chunks', 0):,} chunks) → {last.get('lexical_sync_s', 0):.1f} s ({last.get('lexical_synced_chunks', 0):,} chunks); BM25 index "
            f"{first.get('bm25_matrix_mb', 0)} → {last.get('bm25_matrix_mb', 0)} MB; process RSS {first.get('rss_mb')} → {last.get('rss_mb')} MB."
        )
        if n1 < 1_000_000:
            matrix = _to_1m(first, last, lambda m: m.get("bm25_matrix_mb") or 0)
            lex95 = _to_1m(first, last, lambda m: med(m, "lexical_p95"))
            line += (
                f" Linear extrapolation to 1M chunks (a rough guide): BM25 index ≈ {matrix:,.0f} MB, lexical p95 ≈ {lex95:.0f} ms."
            )
        out.append(line)
    return out


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--worker" not in argv:
        c.standalone(NAME, TITLE, run, argv)
        return
    ap = argparse.ArgumentParser(prog="python -m bench.scale --worker")
    ap.add_argument("--worker", choices=["embedded", "server"], required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--questions", type=int, default=None)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    worker(a.worker, a.data, a.size, a.questions, a.passes, a.out)


if __name__ == "__main__":
    main()
