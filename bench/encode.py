"""Encode throughput: ingest versus the model's raw limit, and faster encoding backends.

    python -m bench.encode [--quick]

Part 1: chunks/s of a full docs_corpus ingest versus the raw encode throughput of the default
model on the very same chunk texts (title prefix + chunk, as ingest embeds them).
Part 2: the same chunk texts (and the dev queries) re-embedded with each backend available here,
all exported LOCALLY from the packaged weights (nothing is downloaded):
  - torch fp32: the product's Embedder (sentence-transformers, torch CPU) - the baseline;
  - torch fp32, 1 thread: the same with torch.set_num_threads(1) (a query-time option);
  - sentence-transformers backend="onnx": needs `optimum` (tried; reported when unavailable);
  - onnxruntime fp32: torch.onnx.export of the transformer + mean pooling + normalisation;
  - onnxruntime fp32 fused: the same graph through onnxruntime.transformers' BERT fusions;
  - onnxruntime int8: onnxruntime.quantization.quantize_dynamic (per-channel int8 weights) of it;
  - torch int8: torch.ao.quantization.quantize_dynamic on the nn.Linear layers.
Each backend's vectors go into an in-memory numpy index; dense-only hit@5 on the dev set is the
fair A/B against the default backend's dense-only hit@5. Repeats are interleaved across backends
(round-robin) so machine-load drift hits them alike. A backend qualifies for a product setting when
it is >= 1.5x faster at <= 1 point lower hit@5.
"""

from __future__ import annotations

import contextlib
import copy
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench import common as c

NAME, TITLE = "encode", "Encoding: ingest vs raw model, and faster backends"
SPEEDUP_TARGET = 1.5
MAX_HIT_DROP = 0.01  # one point of hit@5
K = 5


@dataclass
class Backend:
    name: str
    encode: Callable[[list[str]], np.ndarray] | None
    setup_s: float | None = None
    note: str = ""
    times: list[float] = field(default_factory=list)
    sent_times: list[float] = field(default_factory=list)
    vecs: np.ndarray | None = None


# ---------------------------------------------------------------- texts


def chunk_texts(settings) -> tuple[list[str], list[str], list[str], list[tuple[list[str], list[str]]]]:
    """(embedded texts, stored chunk texts, sentence texts, per-file (embedded chunks, sentences)) of the docs store."""
    from ingest.pipeline import embed_text
    from rag.chunk_schema import sentence_spans_of
    from rag.embedding import get_embedder
    from rag.models import DocumentMeta
    from rag.store import Store

    emb = get_embedder(settings.embedding_model)
    store = Store(settings, emb.fingerprint)
    rows = sorted((r.chunk_id, r.text, r.metadata) for r in store.get_chunks(vectors=False))
    embedded = [embed_text(DocumentMeta(doc_id=m.get("doc_id", ""), title=m.get("title", "")), d) for _, d, m in rows]
    per_file: dict[str, tuple[list[str], list[str]]] = {}
    sentences = []
    for (_, d, m), e in zip(rows, embedded, strict=True):
        mine = [d[a:b] for a, b in sentence_spans_of(m)]
        per_file.setdefault(m.get("source", ""), ([], []))[0].append(e)
        per_file[m.get("source", "")][1].extend(mine)
        sentences += mine
    return embedded, [d for _, d, _ in rows], sentences, list(per_file.values())


# ---------------------------------------------------------------- backends


def pooled_module(hf):
    """The transformer plus mean pooling and L2 normalisation, as one traceable module."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self, hf):
            super().__init__()
            self.hf = hf

        def forward(self, input_ids, attention_mask, token_type_ids):
            h = self.hf(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(h.dtype)
            e = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(e, dim=-1)

    return Pooled(hf).eval()


def export_onnx(st_model, out: Path) -> None:
    """Export a copy of the transformer with eager attention (the pattern onnxruntime's BERT fusion knows)."""
    import torch

    tok = st_model.tokenizer
    hf = copy.deepcopy(st_model[0].auto_model)
    with contextlib.suppress(AttributeError, ValueError):
        hf.set_attn_implementation("eager")
    enc = tok(["an example sentence", "a second, somewhat longer example sentence"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with torch.no_grad():
        torch.onnx.export(
            pooled_module(hf), tuple(enc[n] for n in names), str(out),
            input_names=names, output_names=["embedding"],
            dynamic_axes={**{n: {0: "batch", 1: "seq"} for n in names}, "embedding": {0: "batch"}},
            opset_version=17, dynamo=False,
        )


class OrtEncoder:
    """onnxruntime session fed like sentence-transformers: length-sorted batches of 64, truncation at max_seq_length."""

    def __init__(self, path: Path, tokenizer, max_len: int, threads: int):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.sess.get_inputs()]
        self.tok, self.max_len = tokenizer, max_len

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = None
        for i in range(0, len(texts), batch_size):
            idx = order[i : i + batch_size]
            enc = self.tok([texts[j] for j in idx], padding=True, truncation=True, max_length=self.max_len, return_tensors="np")
            vec = self.sess.run(None, {n: enc[n].astype(np.int64) for n in self.inputs})[0]
            if out is None:
                out = np.zeros((len(texts), vec.shape[1]), dtype=np.float32)
            out[idx] = vec
        return out


def make_backends(settings, workdir: Path) -> list[Backend]:
    import torch
    from sentence_transformers import SentenceTransformer

    from rag.embedding import get_embedder

    emb = get_embedder(settings.embedding_model)
    base = emb.model
    threads = torch.get_num_threads()
    tok, max_len = base.tokenizer, int(base.max_seq_length)
    backends = [Backend("torch fp32 (default)", emb.encode, 0.0, f"the product's Embedder, {threads} torch threads")]
    if threads > 1:
        backends.append(torch_threads(emb, 1))

    # sentence-transformers' own ONNX backend (needs optimum; exports in memory from the local folder).
    t0 = time.perf_counter()
    try:
        st_onnx = SentenceTransformer(settings.embedding_model, device="cpu", backend="onnx", local_files_only=True)
        backends.append(Backend(
            "sentence-transformers backend=onnx",
            lambda t, m=st_onnx: m.encode(t, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False),
            time.perf_counter() - t0, "optimum export from the local folder",
        ))
    except Exception as e:  # any failure means "not available here"
        msg = str(e).splitlines()[0][:200]
        backends.append(Backend("sentence-transformers backend=onnx", None, None, f"unavailable: {type(e).__name__}: {msg}"))

    workdir.mkdir(parents=True, exist_ok=True)
    plain, fused, int8 = workdir / "model.onnx", workdir / "model-fused.onnx", workdir / "model-int8.onnx"
    try:
        t0 = time.perf_counter()
        export_onnx(base, plain)
        export_s = time.perf_counter() - t0
        enc = OrtEncoder(plain, tok, max_len, threads)
        backends.append(Backend("onnxruntime fp32", enc.encode, export_s, f"torch.onnx.export (eager attention), ORT graph optimisations, {plain.stat().st_size / 1e6:.0f} MB"))
    except Exception as e:
        backends.append(Backend("onnxruntime fp32", None, None, f"export failed: {type(e).__name__}: {e}"))
        return backends + [torch_int8(base)]

    source = plain
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        t0 = time.perf_counter()
        hidden = int(base[0].auto_model.config.hidden_size)
        heads = int(base[0].auto_model.config.num_attention_heads)
        opt = optimize_model(str(plain), model_type="bert", num_heads=heads, hidden_size=hidden)
        opt.save_model_to_file(str(fused))
        fusions = {k: v for k, v in (opt.get_fused_operator_statistics() or {}).items() if v}
        enc = OrtEncoder(fused, tok, max_len, threads)
        backends.append(Backend(
            "onnxruntime fp32 fused", enc.encode, export_s + time.perf_counter() - t0,
            "fusions: " + (", ".join(f"{k}×{v}" for k, v in sorted(fusions.items())) or "none"),
        ))
        source = fused
    except Exception as e:
        backends.append(Backend("onnxruntime fp32 fused", None, None, f"unavailable: {type(e).__name__}: {e}"))

    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic

        t0 = time.perf_counter()
        # Per-channel int8 weights with reduced range: per-tensor QInt8 loses far more accuracy on
        # AVX2 machines without VNNI (cosine to fp32 ~0.95 against ~0.99).
        quantize_dynamic(
            str(source), str(int8), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        enc = OrtEncoder(int8, tok, max_len, threads)
        backends.append(Backend(
            "onnxruntime int8 (dynamic)", enc.encode, export_s + time.perf_counter() - t0,
            f"quantize_dynamic QInt8 per-channel of the {'fused' if source == fused else 'plain'} graph, {int8.stat().st_size / 1e6:.0f} MB",
        ))
    except Exception as e:  # any failure means "not available here"
        backends.append(Backend("onnxruntime int8 (dynamic)", None, None, f"unavailable: {type(e).__name__}: {e}"))

    backends.append(torch_int8(base))
    return backends


def torch_threads(emb, n: int) -> Backend:
    """The product's Embedder with fewer torch threads (on a busy machine a 2-thread pool waits on a descheduled thread)."""
    import torch

    def enc(texts):
        prev = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            return emb.encode(texts)
        finally:
            torch.set_num_threads(prev)

    return Backend(f"torch fp32, {n} thread", enc, 0.0, f"torch.set_num_threads({n}) around the same Embedder")


def torch_int8(base) -> Backend:
    import torch

    try:
        t0 = time.perf_counter()
        q = torch.ao.quantization.quantize_dynamic(copy.deepcopy(base), {torch.nn.Linear}, dtype=torch.qint8)
        q.eval()

        def enc(texts, m=q):
            with torch.inference_mode():
                return m.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)

        enc(["warm up"])
        return Backend("torch int8 (quantize_dynamic)", enc, time.perf_counter() - t0, f"nn.Linear → qint8, engine {torch.backends.quantized.engine}")
    except Exception as e:
        return Backend("torch int8 (quantize_dynamic)", None, None, f"unavailable: {type(e).__name__}: {e}")


# ---------------------------------------------------------------- cold start

COLD_TORCH = """
import time
t = time.perf_counter()
import sys
from rag.embedding import get_embedder
v = get_embedder(sys.argv[1]).encode([sys.argv[2]])
print(time.perf_counter() - t)
"""

COLD_ORT = """
import time
t = time.perf_counter()
import sys
import numpy as np, onnxruntime as ort
from tokenizers import Tokenizer
tok = Tokenizer.from_file(sys.argv[1] + "/tokenizer.json")
tok.enable_truncation(256)
so = ort.SessionOptions()
so.intra_op_num_threads = int(sys.argv[4])
sess = ort.InferenceSession(sys.argv[3], so, providers=["CPUExecutionProvider"])
e = tok.encode(sys.argv[2])
feed = {"input_ids": np.array([e.ids]), "attention_mask": np.array([e.attention_mask]), "token_type_ids": np.array([e.type_ids])}
v = sess.run(None, {i.name: feed[i.name] for i in sess.get_inputs()})[0]
print(time.perf_counter() - t)
"""


def cold_first_vector(code: str, args: list[str], repeats: int) -> dict:
    """Seconds from a fresh interpreter's first line to the first query vector (median of repeats)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("CADRES_")}
    env["PYTHONPATH"] = str(c.ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    out = []
    for _ in range(repeats):
        p = subprocess.run([sys.executable, "-c", code, *args], cwd=c.ROOT, env=env, capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            raise RuntimeError(p.stderr[-1500:])
        out.append(float(p.stdout.strip().splitlines()[-1]))
    return c.summarize(out)


# ---------------------------------------------------------------- quality


def emb_count_tokens(settings, texts: list[str]) -> list[int]:
    from rag.embedding import get_embedder

    return get_embedder(settings.embedding_model).count_tokens(texts)


def dense_hit_stats(chunk_vecs: np.ndarray, query_vecs: np.ndarray, stored: list[str], questions) -> dict:
    sims = query_vecs @ chunk_vecs.T
    top = np.argsort(-sims, axis=1, kind="stable")[:, :10]
    ranks = [c.first_hit([stored[j] for j in row], q.must_include) for row, q in zip(top, questions, strict=True)]
    return c.hit_stats(ranks)


# ---------------------------------------------------------------- run


def run(quick: bool = False, **_) -> dict:
    settings = c.docs_store()
    c.warm_model(settings)
    embedded, stored, sentences, per_file = chunk_texts(settings)
    questions = c.scored(c.dev_questions())
    queries = [c.retrieval_query(q) for q in questions]
    repeats = 1 if quick else 3

    # Part 1: the ingest versus the raw encode of the same texts.
    ingest_runs, ingest_note = c.docs_ingest_runs("encode")
    ingest_cps = c.summarize([r["chunks_per_s"] for r in ingest_runs])

    # Part 2: backends (the torch baseline doubles as the raw-encode measure of part 1).
    c.log("encode: preparing backends (local ONNX export, quantisation)")
    workdir = c.CACHE / "onnx"
    shutil.rmtree(workdir, ignore_errors=True)
    backends = make_backends(settings, workdir)
    live = [b for b in backends if b.encode is not None]
    for b in live:
        b.encode(embedded[:8])  # warm-up: first-call allocations, lazy inits
    c.log(f"encode: {len(embedded)} chunk texts x {repeats} round(s) over {len(live)} backends")
    base = live[0]
    per_file_times: list[float] = []
    for _ in range(repeats):
        for b in live:
            t0 = time.perf_counter()
            v = b.encode(embedded)
            b.times.append(time.perf_counter() - t0)
            if b.vecs is None:
                b.vecs = np.asarray(v, dtype=np.float32)
            t0 = time.perf_counter()
            b.encode(sentences)
            b.sent_times.append(time.perf_counter() - t0)
            if b is base:  # the same texts in the calls ingest makes: per file, its chunks then its sentences
                t0 = time.perf_counter()
                for file_chunks, file_sents in per_file:
                    base.encode(file_chunks)
                    base.encode(file_sents)
                per_file_times.append(time.perf_counter() - t0)
    sent_times = base.sent_times
    base_time = c.summarize(base.times)
    raw_cps = c.summarize([len(embedded) / t for t in base.times])
    sent_s = c.summarize(sent_times)
    limit_cps = c.summarize([len(embedded) / (t + st) for t, st in zip(base.times, sent_times, strict=True)])
    per_file_cps = c.summarize([len(embedded) / t for t in per_file_times])
    tok_chunks = sum(emb_count_tokens(settings, embedded))
    tok_sents = sum(emb_count_tokens(settings, sentences))

    rows, results = [], {}
    base_hits = None
    for b in backends:
        if b.encode is None:
            rows.append([b.name, "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", b.note])
            results[b.name] = {"available": False, "note": b.note}
            continue
        qv = np.asarray(b.encode(queries), dtype=np.float32)
        lat = []
        for qtext in queries[: 20 if quick else 60]:
            t0 = time.perf_counter()
            b.encode([qtext])
            lat.append((time.perf_counter() - t0) * 1000)
        hits = dense_hit_stats(b.vecs, qv, stored, questions)
        if base_hits is None:
            base_hits = hits
        speedups = [base_time["median"] / t for t in b.times]
        speed = c.summarize(speedups)
        sent_speed = c.summarize([sent_s["median"] / t for t in b.sent_times])
        cps = c.summarize([len(embedded) / t for t in b.times])
        cos = np.sum(b.vecs * base.vecs, axis=1)
        drop = base_hits["hit@5"] - hits["hit@5"]
        qualifies = b is not base and speed["median"] >= SPEEDUP_TARGET and drop <= MAX_HIT_DROP + 1e-9
        q_lat = c.summarize(lat)
        results[b.name] = {
            "available": True, "note": b.note, "setup_s": b.setup_s, "times_s": b.times, "chunks_per_s": cps,
            "speedup": speed, "sentence_speedup": sent_speed, "sentence_times_s": b.sent_times, "query_encode_ms": q_lat, "hits": hits, "cos_to_default": {"mean": float(cos.mean()), "min": float(cos.min())},
            "hit5_drop_points": drop * 100, "qualifies": qualifies if b is not base else None,
        }
        rows.append([
            b.name, c.fmt_short(cps, 1), "1.00 (baseline)" if b is base else c.fmt_short(speed, 2, "×"),
            "1.00 (baseline)" if b is base else c.fmt_short(sent_speed, 2, "×"),
            f"{q_lat['median']:.1f} / {c.percentile(lat, 95):.1f} ms", f"{hits['hit@5'] * 100:.1f}%" + ("" if b is base else f" ({-drop * 100:+.1f})"),
            f"{cos.mean():.4f} / {cos.min():.4f}", "" if b is base else ("**yes**" if qualifies else "no"),
            b.note + (f"; setup {b.setup_s:.1f} s" if b.setup_s else ""),
        ])

    c.log("encode: cold start to the first query vector (fresh processes)")
    import torch

    cold: dict[str, dict | str] = {}
    query = queries[0]
    try:
        cold["torch fp32 (sentence-transformers)"] = cold_first_vector(COLD_TORCH, [settings.embedding_model, query], repeats)
    except (RuntimeError, OSError, ValueError) as e:
        cold["torch fp32 (sentence-transformers)"] = f"failed: {e}"
    onnx_file = next((p for p in (workdir / "model-fused.onnx", workdir / "model.onnx") if p.exists()), None)
    if onnx_file is not None:
        try:
            cold[f"onnxruntime + tokenizers ({onnx_file.name})"] = cold_first_vector(
                COLD_ORT, [settings.embedding_model, query, str(onnx_file), str(torch.get_num_threads())], repeats
            )
        except (RuntimeError, OSError, ValueError) as e:
            cold[f"onnxruntime + tokenizers ({onnx_file.name})"] = f"failed: {e}"

    ratio = ingest_cps["median"] / raw_cps["median"]
    md = [
        f"### Ingest versus the model's raw encode ({len(embedded)} docs_corpus chunks)",
        "",
        c.md_table(
            ["measure", "value"],
            [
                [f"full ingest, chunks/s (fresh data dir; {ingest_note})", c.fmt_short(ingest_cps, 2)],
                [f"raw encode of the same chunk texts, chunks/s (torch fp32, batch 64; {tok_chunks:,} word pieces)", c.fmt_short(raw_cps, 2)],
                [f"raw encode of their {len(sentences)} sentences, s ({tok_sents:,} word pieces)", c.fmt_short(sent_s, 1, "s")],
                ["raw encode of chunks + sentences (what ingest embeds), chunks/s", c.fmt_short(limit_cps, 2)],
                [f"the same texts in the calls ingest makes (per file: its chunks, then its sentences; {len(per_file)} files), chunks/s", c.fmt_short(per_file_cps, 2)],
            ],
        ),
        "",
        f"Ingest reaches {ratio:.0%} of the raw chunk-encode throughput (median / median) and "
        f"{ingest_cps['median'] / limit_cps['median']:.0%} of the chunks + sentences limit; encoding the same texts in "
        f"ingest's per-file calls runs at {per_file_cps['median'] / limit_cps['median']:.0%} of that limit. The rest is "
        "everything around the model (see the ingest benchmark's split) and load drift between the measurements.",
        "",
        f"### Backends (same {len(embedded)} chunk texts; {len(queries)} dev queries; dense-only numpy index)",
        "",
        c.md_table(
            ["backend", "chunks/s", "speedup (chunks)", f"speedup ({len(sentences)} sentences)", "1-query encode p50 / p95", "dense hit@5 (Δ pts)", "cos to default mean/min", "qualifies", "notes"],
            rows,
        ),
        "",
        f"Speedup = default encode time / backend encode time, per round, median [min–max] over {repeats} interleaved "
        f"round(s). Qualifies = ≥ {SPEEDUP_TARGET}× faster at ≤ {MAX_HIT_DROP * 100:.0f} point lower dense-only hit@5 "
        f"({len(questions)} scored questions: one question = {100 / max(1, len(questions)):.1f} points). "
        "Sentences: the same backends on the chunks' sentences (short texts, which ingest also embeds). "
        f"1-query encode = latency of encoding one query, over {20 if quick else 60} dev queries (the embed_query stage of a question).",
        "",
        "Cold start to the first query vector (a fresh `python -c`: imports, model load, one encode; the rest of a "
        "first answer - chromadb, the store, BM25 - comes on top and is the same for both):",
        "",
        c.md_table(["path", "seconds"], [[k, v if isinstance(v, str) else c.fmt(v, 2, "s")] for k, v in cold.items()]),
        "",
        "Not installed on purpose: `optimum[onnxruntime]` (needed by sentence-transformers' backend=\"onnx\") would "
        "downgrade transformers 5.x to 4.57 and huggingface_hub to 0.36 in this venv. The local export above needs only "
        "`onnx` (installed into the venv for this benchmark) next to the existing onnxruntime.",
    ]
    qualifying = [n for n, r in results.items() if r.get("qualifies")]
    headline = [
        {"metric": "ingest / raw encode throughput", "value": f"{ingest_cps['median']:.2f} / {raw_cps['median']:.2f} chunks/s ({ratio:.0%})", "target": "", "met": None},
    ]
    cold_vals = [(k, v) for k, v in cold.items() if isinstance(v, dict)]
    if len(cold_vals) == 2:
        headline.append({
            "metric": "cold start to 1st query vector: torch → onnxruntime",
            "value": f"{c.fmt_short(cold_vals[0][1], 1, 's')} → {c.fmt_short(cold_vals[1][1], 1, 's')}", "target": "", "met": None,
        })
    for n, r in results.items():
        if not r.get("available") or r.get("qualifies") is None:
            continue
        headline.append({
            "metric": f"backend {n}",
            "value": f"{r['speedup']['median']:.2f}× [{r['speedup']['min']:.2f}–{r['speedup']['max']:.2f}], hit@5 {-r['hit5_drop_points']:+.1f} pts",
            "target": f"≥ {SPEEDUP_TARGET}× at ≥ −1 pt", "met": r["qualifies"],
        })
    data = {
        "chunks": len(embedded), "sentences": len(sentences), "questions": len(questions),
        "ingest_chunks_per_s": ingest_cps, "raw_chunks_per_s": raw_cps, "sentence_encode_s": sent_s,
        "limit_chunks_per_s": limit_cps, "per_file_chunks_per_s": per_file_cps, "cold_first_vector_s": cold, "word_pieces": {"chunks": tok_chunks, "sentences": tok_sents}, "ingest_over_raw": ratio, "backends": results, "qualifying": qualifying,
    }
    return c.section(NAME, TITLE, "\n".join(md), data, headline, quick)


if __name__ == "__main__":
    c.standalone(NAME, TITLE, run)
