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


def pdf_bytes(pages: list[list[str]], title: str = "") -> bytes:
    """A minimal valid PDF with a real text layer: one Helvetica 11 pt text stream per page, one
    line per item (characters outside cp1252 become "?"). The tests' PDFs come from here too."""
    n = len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n))
    objs: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for i, lines in enumerate(pages):
        ops = ["BT", "/F1 11 Tf", "14 TL", "72 740 Td", *(f"({_escape(line)}) Tj T*" for line in lines), "ET"]
        stream = "\n".join(ops).encode("cp1252")
        objs.append(
            (
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>"
            ).encode()
        )
        objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    info = b""
    if title:
        objs.append(b"<< /Title (%s) >>" % _escape(title).encode("cp1252"))
        info = b" /Info %d 0 R" % len(objs)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for k, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % k + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, info, xref)
    return bytes(out)


def write_pdf(path: Path, pages: list[str], title: str = "") -> None:
    """One text page per item of `pages`, its paragraphs wrapped at 90 characters (50 lines a page)."""
    lines = [[ln for para in text.split("\n") for ln in (textwrap.wrap(para, 90) or [""])][:50] for text in pages]
    Path(path).write_bytes(pdf_bytes(lines, title))


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
