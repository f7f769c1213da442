"""The evaluation report: typed rows and summary, written as JSON, Markdown and PNG plots."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field

from rag.evaluation.questions import LineError


class RetrievedRef(BaseModel):
    chunk_id: str
    doc_id: str
    score: float
    text: str = ""


class EvalRow(BaseModel):
    id: str
    question: str
    answerable: bool
    history: list[str] = Field(default_factory=list)
    must_include: list[str] = Field(default_factory=list)
    gold_doc_ids: list[str] = Field(default_factory=list)
    retrieved: list[RetrievedRef] = Field(default_factory=list)
    first_hit_rank: int | None = None
    reciprocal_rank: float = 0.0
    doc_recall: float | None = None
    answer: str = ""
    refused: bool = False
    covered: bool | None = None
    citations: int = 0
    citations_verbatim: float | None = None
    cited_sentences: float | None = None
    retrieve_ms: float | None = None
    ask_ms: float | None = None
    failure: str | None = None


class EvalSummary(BaseModel):
    questions: int = 0
    answerable: int = 0
    unanswerable: int = 0
    malformed_lines: int = 0
    k: int = 5
    hit_at: dict[str, float | None] = Field(default_factory=dict)  # "1", "3", "5", "10"
    mrr: float | None = None
    doc_recall: float | None = None
    coverage: float | None = None
    refusal_rate: float | None = None
    false_refusal_rate: float | None = None
    citation_verbatim: float | None = None
    cited_sentences: float | None = None
    latency_ms: dict[str, float | None] = Field(default_factory=dict)
    faithfulness: float | None = None

    def flat(self) -> dict[str, float]:
        out = {}
        for key, value in self.model_dump().items():
            if isinstance(value, dict):
                for sub, v in value.items():
                    if isinstance(v, int | float):
                        out[f"{key}.{sub}"] = v
            elif isinstance(value, int | float) and not isinstance(value, bool):
                out[key] = value
        return out


class EvalReport(BaseModel):
    summary: EvalSummary
    rows: list[EvalRow] = Field(default_factory=list)
    errors: list[LineError] = Field(default_factory=list)
    mode: str = "extractive"

    # ------------------------------------------------------------ outputs
    def write(self, out_dir: str | Path, compare_to: EvalReport | None = None) -> list[Path]:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = [out / "report.json", out / "report.md"]
        (out / "report.json").write_text(self.model_dump_json(indent=2))
        md = self.markdown()
        if compare_to is not None:
            deltas = compare(compare_to, self)
            (out / "compare.json").write_text(json.dumps(deltas, indent=2))
            written.append(out / "compare.json")
            md += "\n## Against the earlier report\n\n" + deltas_markdown(deltas)
        (out / "report.md").write_text(md)
        written.extend(self.plots(out))
        return written

    def markdown(self, worst: int = 8) -> str:
        s = self.summary
        lines = ["# Evaluation report", "", f"Mode: {self.mode}; k = {s.k}; {s.questions} questions "
                 f"({s.answerable} answerable, {s.unanswerable} unanswerable); {s.malformed_lines} malformed lines.", "",
                 "| metric | value |", "| --- | --- |"]
        for key, v in s.flat().items():
            lines.append(f"| {key} | {v if v is not None else '-'} |")
        for e in self.errors:
            lines.append(f"\n- skipped: {e.error}")
        failed = [r for r in self.rows if r.failure]
        failed.sort(key=lambda r: (r.covered is not False, r.reciprocal_rank))
        lines += ["", f"## Worst questions ({len(failed)} with a failure)", ""]
        for r in failed[:worst]:
            lines += [f"### {r.id}: {r.question}", "", f"- failure: {r.failure}", f"- must include: {r.must_include}",
                      f"- answer: {r.answer[:500]}", "- retrieved:"]
            for i, p in enumerate(r.retrieved[:5], start=1):
                snippet = p.text[:240].replace("\n", " ")
                lines.append(f"  {i}. `{p.chunk_id}` ({p.score:.3f}) {snippet}")
            lines.append("")
        return "\n".join(lines) + "\n"

    def plots(self, out: Path) -> list[Path]:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        paths = []
        ans = [r for r in self.rows if r.answerable and r.must_include]
        ks = list(range(1, 11))
        curve = [sum(1 for r in ans if r.first_hit_rank and r.first_hit_rank <= k) / max(1, len(ans)) for k in ks]
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.plot(ks, curve, marker="o")
        ax.set(xlabel="k", ylabel="hit@k", ylim=(0, 1.02), title="Retrieval hit@k")
        ax.grid(alpha=0.3)
        paths.append(_save(fig, out / "hit_at_k.png"))

        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.hist([r.ask_ms for r in self.rows if r.ask_ms is not None], bins=20, alpha=0.7, label="ask")
        ax.hist([r.retrieve_ms for r in self.rows if r.retrieve_ms is not None], bins=20, alpha=0.7, label="retrieve")
        ax.set(xlabel="ms", ylabel="questions", title="Latency")
        ax.legend()
        paths.append(_save(fig, out / "latency.png"))

        per_doc: dict[str, list[bool]] = {}
        for r in ans:
            key = r.gold_doc_ids[0] if r.gold_doc_ids else "(no gold doc)"
            per_doc.setdefault(key, []).append(bool(r.first_hit_rank and r.first_hit_rank <= self.summary.k))
        names = sorted(per_doc)
        fig, ax = plt.subplots(figsize=(7, 0.35 * len(names) + 1.5))
        ax.barh(names, [sum(v) / len(v) for v in (per_doc[n] for n in names)])
        ax.set(xlabel=f"hit@{self.summary.k}", xlim=(0, 1.02), title="Retrieval by document")
        ax.tick_params(axis="y", labelsize=7)
        paths.append(_save(fig, out / "by_document.png"))
        return paths


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def compare(old: EvalReport, new: EvalReport) -> dict[str, dict[str, float | None]]:
    a, b = old.summary.flat(), new.summary.flat()
    return {
        k: {"old": a.get(k), "new": b.get(k), "delta": round(b[k] - a[k], 4) if k in a and k in b else None}
        for k in sorted(set(a) | set(b))
    }


def deltas_markdown(deltas: dict) -> str:
    lines = ["| metric | old | new | delta |", "| --- | --- | --- | --- |"]
    for k, d in deltas.items():
        lines.append(f"| {k} | {d['old']} | {d['new']} | {d['delta']:+} |" if d["delta"] is not None else f"| {k} | {d['old']} | {d['new']} | - |")
    return "\n".join(lines) + "\n"
