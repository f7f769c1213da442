"""Ingestion throughput: files/s and chunks/s, with the time inside the model's encode shown apart.

    python -m bench.ingest [--quick]

docs_corpus/ is ingested into a fresh data dir 3 times, and so is a synthetic corpus of about 500
chunks (40 markdown files recombining the corpus's own sentences; ingest runs at ~2-3 chunks/s here,
so 5,000 chunks would take half an hour a run). Embedder.encode is
wrapped with a timer in this process, so "other" is everything around the model: loading and
cleaning files, chunking (tokenisation for counting), Chroma writes, the manifest, the BM25 sync.
The model is loaded before the clock starts.
"""

from __future__ import annotations

import random
from pathlib import Path

from bench import common as c

NAME, TITLE = "ingest", "Ingestion throughput"
OTHER_SHARE_TARGET = 0.20
LIMIT_RATIO_TARGET = 0.8  # ingest chunks/s over the bare model's encode of the same chunk texts
SYNTH_VERSION = "1"


def corpus_sentences() -> list[str]:
    """Every sentence of docs_corpus/ after the product's own loading and cleaning."""
    from ingest.loaders import load_file
    from rag.text import split_sentences

    out: list[str] = []
    for path in c.corpus_files():
        for _page, text in load_file(path).pages:
            out += [s.text for s in split_sentences(text) if len(s.text.split()) >= 5 and not s.text.startswith("#")]
    return out


def synthetic_corpus(n_files: int, tokens_per_file: tuple[int, int] = (1000, 2400), seed: int = 7) -> Path:
    """n_files markdown files of recombined corpus sentences (cached in bench/.cache).

    About 1,700 word pieces of sentences a file, i.e. ~12 chunks of 200 word pieces with 40 overlap:
    400 files give ~5,000 chunks.
    """
    from rag.embedding import get_embedder
    from rag.settings import Settings

    out = c.CACHE / f"synthetic-corpus-v{SYNTH_VERSION}-{n_files}-{tokens_per_file[0]}-{tokens_per_file[1]}"
    if (out / ".complete").exists():
        return out
    c.log(f"writing synthetic corpus ({n_files} files) to {out}")
    out.mkdir(parents=True, exist_ok=True)
    sents = corpus_sentences()
    emb = get_embedder(Settings().embedding_model)
    ntok = emb.count_tokens(sents)
    words = sorted({w.strip(".,;:()\"'") for s in sents for w in s.split() if w.isalpha() and len(w) > 3})
    rng = random.Random(seed)
    for i in range(n_files):
        budget = rng.randint(*tokens_per_file)
        title = " ".join(rng.sample(words, 6)).capitalize()
        lines = [
            "---",
            f"doc_id: synthetic-{i:04d}",
            f'title: "{title}"',
            f'authors: ["Synthetic Author {i % 37}"]',
            f"year: {rng.randint(1946, 2024)}",
            'source_type: "synthetic"',
            "---",
            "",
            f"# {title}",
            "",
        ]
        used = 0
        while used < budget:
            if rng.random() < 0.15:
                lines += [f"## {' '.join(rng.sample(words, 3)).capitalize()}", ""]
            para = []
            for _ in range(rng.randint(3, 7)):
                j = rng.randrange(len(sents))
                para.append(sents[j])
                used += ntok[j]
            lines += [" ".join(para), ""]
        (out / f"synthetic-{i:04d}.md").write_text("\n".join(lines), encoding="utf-8")
    (out / ".complete").write_text("ok")
    return out


def limit_pair() -> dict:
    """One docs_corpus ingest, then the physical limit in the same moment: the bare model
    (sentence-transformers `encode`, as ingest calls it) over the very chunk texts it embedded."""
    import shutil
    import time

    from bench.encode import chunk_texts
    from rag.embedding import get_embedder

    run = c.fresh_ingest([c.CORPUS], "docs", keep=True)
    settings = c.bench_settings(Path(run["data_dir"]))
    embedded = chunk_texts(settings)[0]
    emb = get_embedder(settings.embedding_model)
    t0 = time.perf_counter()
    emb.model.encode(embedded, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    bare = time.perf_counter() - t0
    from rag.store import forget_client

    forget_client(settings)
    shutil.rmtree(run["data_dir"], ignore_errors=True)
    run.update(bare_seconds=bare, bare_chunks_per_s=len(embedded) / bare, limit_ratio=run["chunks_per_s"] * bare / len(embedded))
    return run


def _row(label: str, runs: list[dict]) -> tuple[list, dict]:
    agg = {
        k: c.summarize([r[k] for r in runs])
        for k in ("seconds", "encode_seconds", "other_seconds", "other_share", "files_per_s", "chunks_per_s")
    }
    agg["files"] = runs[0]["files"]
    agg["chunks"] = runs[0]["chunks"]
    agg["texts_encoded"] = runs[0]["texts_encoded"]
    share = agg["other_share"]
    share_pct = {k: (v * 100 if isinstance(v, float) else v) for k, v in share.items()}
    row = [
        label, agg["files"], agg["chunks"], agg["texts_encoded"],
        c.fmt_short(agg["seconds"], 1), c.fmt_short(agg["encode_seconds"], 1), c.fmt_short(agg["other_seconds"], 1),
        c.fmt_short(share_pct, 1, "%"), c.fmt_short(agg["files_per_s"], 2), c.fmt_short(agg["chunks_per_s"], 2),
    ]
    return row, agg


def run(quick: bool = False, **_) -> dict:
    from rag.settings import Settings

    settings = Settings()
    load_s = c.warm_model(settings)
    repeats = 1 if quick else 3
    n_synth = 6 if quick else 40

    c.log(f"ingest: docs_corpus x{repeats}, each beside the bare model encoding its chunk texts")
    docs_runs = [limit_pair() for _ in range(repeats)]
    synth_dir = synthetic_corpus(n_synth)
    c.log(f"ingest: synthetic corpus ({n_synth} files) x{repeats}")
    synth_runs = [c.fresh_ingest([synth_dir], f"synthetic-{n_synth}") for _ in range(repeats)]

    docs_row, docs = _row(f"docs_corpus ({repeats} run{'s' if repeats > 1 else ''})", docs_runs)
    docs["bare_chunks_per_s"] = c.summarize([r["bare_chunks_per_s"] for r in docs_runs])
    docs["limit_ratio"] = c.summarize([r["limit_ratio"] for r in docs_runs])
    synth_row, synth = _row(f"synthetic, {n_synth} files ({repeats} run{'s' if repeats > 1 else ''})", synth_runs)
    header = [
        "corpus", "files", "chunks", "texts encoded", "total s", "encode s", "other s", "other share",
        "files/s", "chunks/s",
    ]
    md = [
        c.md_table(header, [docs_row, synth_row]),
        "",
        f"Model load before the clock: {load_s:.1f} s (1 run). Chunks: {settings.chunk_tokens} word pieces, "
        f"{settings.chunk_overlap_tokens} overlap. \"texts encoded\" = chunks + sentences (the sentences are "
        "embedded at ingest so the extractive answerer never encodes them at query time); \"encode s\" is "
        "the time inside `Embedder.encode`, \"other\" is everything around it.",
        "",
        f"Target: everything around the encode ≤ {OTHER_SHARE_TARGET:.0%} of the total.",
        "",
        f"Limit, same run: right after each docs_corpus ingest the bare model encodes the very chunk texts it "
        f"embedded: {c.fmt_short(docs['bare_chunks_per_s'], 2)} chunks/s, so ingest runs at "
        f"{c.fmt_short(docs['limit_ratio'], 2, '×')} of it (target ≥ {LIMIT_RATIO_TARGET}×). Sentence vectors: "
        f"CADRES_SENTENCE_VECTORS={settings.sentence_vectors}.",
    ]
    if quick:
        md += ["", "_Quick mode: 1 run of docs_corpus and a 6-file synthetic corpus instead of 3 runs of each and 40 files._"]
    headline = []
    headline.append({
        "metric": "docs_corpus ingest vs the bare model on its chunk texts",
        "value": f"{c.fmt_short(docs['chunks_per_s'], 2)} vs {c.fmt_short(docs['bare_chunks_per_s'], 2)} chunks/s = {c.fmt_short(docs['limit_ratio'], 2, '×')}",
        "target": f"≥ {LIMIT_RATIO_TARGET}×",
        "met": docs["limit_ratio"]["median"] >= LIMIT_RATIO_TARGET,
    })
    for label, agg in (("docs_corpus", docs), (f"synthetic {agg_chunks(synth)} chunks", synth)):
        share = agg["other_share"]["median"]
        headline += [
            {"metric": f"{label}: chunks/s", "value": c.fmt_short(agg["chunks_per_s"], 2), "target": "", "met": None},
            {
                "metric": f"{label}: time around the encode",
                "value": c.fmt_short({k: (v * 100 if isinstance(v, float) else v) for k, v in agg["other_share"].items()}, 1, "%"),
                "target": f"≤ {OTHER_SHARE_TARGET:.0%}",
                "met": None if share is None else share <= OTHER_SHARE_TARGET,
            },
        ]
    data = {"model_load_s": load_s, "docs_corpus": {"runs": docs_runs, **docs}, "synthetic": {"runs": synth_runs, **synth, "files_dir": str(synth_dir)}}
    return c.section(NAME, TITLE, "\n".join(md), data, headline, quick)


def agg_chunks(agg: dict) -> str:
    return f"{agg['chunks']:,}"


if __name__ == "__main__":
    c.standalone(NAME, TITLE, run)
