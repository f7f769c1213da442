"""Bulk ingest: `cadres ingest` over 1,000 generated multi-page PDFs, timed from the command line.

    python -m bench.pdfs [--quick]

The PDFs (bench/.cache, made once) are written by `write_pdf`, a minimal PDF writer: text pages in
Helvetica, each page a paragraph or two of docs_corpus's own sentences recombined, 2-5 pages a file.
It is hand-written because no PDF-writing library is a dependency of the product and the test of
this generator (tests/ingest/test_generated_pdfs.py) needs nothing else; pypdf reads what it writes.
The measured run is one `cadres ingest --json` subprocess into a fresh data dir: process start,
model load, every PDF loaded, chunked, embedded and written, and the BM25 sync.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from bench import common as c

NAME, TITLE = "pdfs", "Bulk ingest of generated multi-page PDFs"
VERSION = "1"


def _escape(line: str) -> str:
    text = line.encode("cp1252", "replace").decode("cp1252")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(path: Path, pages: list[str], title: str = "") -> None:
    """A valid PDF with one text page per item of `pages` (Helvetica 11 pt, lines wrapped at 90)."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    pages_id = len(objects) + 1 + 2 * len(pages)  # the Pages object comes after every page and stream
    kids = []
    for text in pages:
        lines = [ln for para in text.split("\n") for ln in (textwrap.wrap(para, 90) or [""])]
        ops = ["BT", "/F1 11 Tf", "14 TL", "72 760 Td"] + [f"({_escape(ln)}) Tj T*" for ln in lines[:50]] + ["ET"]
        stream = "\n".join(ops).encode("cp1252", "replace")
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (pages_id, content, font)
        ))
    assert add(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))) == pages_id
    info = add(b"<< /Title (%s) >>" % _escape(title).encode("cp1252", "replace"))
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, info, xref)
    Path(path).write_bytes(bytes(out))


def make_pdfs(folder: Path, n: int, sentences: list[str], seed: int = 11, pages: tuple[int, int] = (2, 5)) -> Path:
    """n PDFs of 2-5 pages of recombined sentences (about 220 words a page) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    for i in range(n):
        body = []
        for _ in range(rng.randint(*pages)):
            words, para = 0, []
            while words < 220:
                s = sentences[rng.randrange(len(sentences))]
                para.append(s)
                words += len(s.split())
            body.append(" ".join(para))
        write_pdf(folder / f"report-{i:04d}.pdf", body, title=f"Generated report {i}")
    return folder


def run(quick: bool = False, **_) -> dict:
    from bench.ingest import corpus_sentences

    n = 40 if quick else 1000
    folder = c.CACHE / f"pdfs-v{VERSION}-{n}"
    if not (folder / ".complete").exists():
        c.log(f"pdfs: writing {n} PDFs to {folder}")
        make_pdfs(folder, n, corpus_sentences())
        (folder / ".complete").write_text("ok")
    data_dir = c.CACHE / "runs" / f"pdfs-{os.getpid()}-{time.time_ns()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADRES_")}
    env.update(CADRES_DATA_DIR=str(data_dir), PYTHONPATH=str(c.ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    c.log(f"pdfs: `cadres ingest --json` over {n} PDFs")
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "rag", "ingest", "--json", str(folder)], env=env, cwd=c.ROOT,
                       capture_output=True, text=True, timeout=6 * 3600)
    wall = time.perf_counter() - t0
    if p.returncode not in (0, 2):
        raise RuntimeError(p.stderr[-1500:])
    report = json.loads(p.stdout)
    from pypdf import PdfReader

    pages = sum(len(PdfReader(f).pages) for f in folder.glob("*.pdf"))
    md = [
        c.md_table(
            ["PDFs", "chunks", "failed", "wall s (process start to report)", "files/s", "chunks/s", "inside ingest_paths s"],
            [[report["files_added"], report["chunks_added"], len(report["files_failed"]), f"{wall:.1f}",
              f"{report['files_added'] / wall:.2f}", f"{report['chunks_added'] / wall:.2f}", f"{report['seconds']:.1f}"]],
        ),
        "",
        f"One run (an ingest of this size takes minutes, so it is not repeated): {n} generated PDFs, {pages} "
        "text pages in all (2-5 each, bench/pdfs.py), one `cadres ingest --json` subprocess into a fresh data dir.",
    ]
    if quick:
        md += ["", f"_Quick mode: {n} PDFs instead of 1,000._"]
    headline = [{"metric": f"`cadres ingest` of {n} generated PDFs", "value": f"{wall:.0f} s ({report['chunks_added'] / wall:.1f} chunks/s)", "target": "", "met": None}]
    data = {"pdfs": n, "pages": pages, "wall_s": wall, "report": {k: report[k] for k in ("files_added", "chunks_added", "seconds")}, "failed": report["files_failed"][:5]}
    import shutil

    shutil.rmtree(data_dir, ignore_errors=True)
    return c.section(NAME, TITLE, "\n".join(md), data, headline, quick)


if __name__ == "__main__":
    c.standalone(NAME, TITLE, run)
