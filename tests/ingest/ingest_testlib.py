"""Helpers for the ingest tests: hand-made PDFs, small prose, and reading back what the store holds."""

from __future__ import annotations

import contextlib
import io
import random
from pathlib import Path

# Extra environment for `cadres` subprocesses: one torch thread, as in-process (one_torch_thread).
SUBPROCESS_ENV = {"OMP_NUM_THREADS": "1"}


@contextlib.contextmanager
def one_torch_thread():
    """Run the block with one torch intra-op thread, then restore the previous count.

    The tests embed many tiny batches; on a small or shared machine torch's thread pool spends more
    time spinning than computing (one thread measured ~4x faster on a busy 2-core box). The vectors,
    ids and texts the tests compare do not depend on it.
    """
    try:
        import torch
    except ImportError:  # pragma: no cover
        yield
        return
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(prev)


# --------------------------------------------------------------------------- sample texts

JA_TEXT = (
    "日本人捕虜はシベリアの収容所で働いた。多くの人々は一九五六年までに帰国した。"
    "引揚船は舞鶴港に到着した。彼らの経験は長い間語られなかった。"
)
CP1252_TEXT = (
    "After 1945 the café owners in Harbin – many of them naïve about politics – watched the Soviet "
    "troops arrive. “Nobody expected the repatriation to take so long,” one recalled. The régime’s "
    "officials kept lists of Japanese residents, and the déjà vu of earlier occupations was strong."
)
UTF16_TEXT = "Ünïcödé prisoners returned from Siberia. They wrote letters home in 1948."
UTF8_BOM_TEXT = "Ελληνικά and Русский words are kept — with a dash. A second sentence follows."
PDF_PAGES = [
    ["Report on the port of Dalian.", "Ships left for Japan every week in 1947."],
    ["The second page covers Port Arthur.", "Soviet forces stayed there until 1955."],
]
HTML_PAGE = """<!DOCTYPE html>
<html><head><title>Harbin Street Life</title>
<style>p { color: red } .style-marker-xyz { display: none }</style>
<script>var marker = "SCRIPT-MARKER-XYZ";</script></head>
<body><h1>Life in Harbin</h1>
<p>Japanese families stayed in Harbin after 1945. They sold goods at the market.</p>
<script>document.write("INLINE-SCRIPT-XYZ")</script>
<noscript>NOSCRIPT-XYZ</noscript>
<p>Most of them left in 1946.</p></body></html>
"""
FRONT_MD = """---
title: "Memoirs of a Returnee"
author: "Sato, Hiroshi and Tanaka, Yuki"
date: 1953-04-01
journal: Shin Nihon
doc_id: Sato Memoirs 1953
themes: [repatriation, memory]
---
# Chapter One

The **train** left Harbin in *autumn*. See [the map](http://example.org/map) for the route.
"""


# --------------------------------------------------------------------------- PDFs


def make_pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF with a real text layer, one line per item (the bench's writer)."""
    from bench.pdfs import pdf_bytes

    return pdf_bytes(pages)


def encrypted_pdf(password: str = "s3cret") -> bytes:
    """A PDF with a text layer, encrypted with a user password (pypdf's PdfWriter.encrypt)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(make_pdf([["A secret report about the camps."]]))))
    writer.encrypt(user_password=password, owner_password=password + "-owner")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def blank_pdf() -> bytes:
    """A valid PDF whose only page has no text layer (what a scan without OCR looks like)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------- text

_SUBJECTS = [
    "The prisoners",
    "The repatriation board",
    "A Soviet officer",
    "The camp doctor",
    "Japanese settlers",
    "The Red Cross delegation",
    "Local officials",
    "The returnees",
    "A former soldier",
    "The newspaper",
]
_VERBS = [
    "described",
    "reported",
    "recorded",
    "remembered",
    "questioned",
    "counted",
    "organised",
    "avoided",
]
_OBJECTS = [
    "the long winter in Khabarovsk",
    "the transport to Nakhodka",
    "the work quotas in the forest",
    "the political classes",
    "the ships arriving at Maizuru",
    "the lists of missing men",
    "the food rations in the camp",
    "the letters sent home",
    "the trials of war criminals",
    "the new rules for travel",
]


def prose(n_sentences: int, seed: int = 0, tag: str = "") -> str:
    """Deterministic, plain English sentences (about 10-14 word pieces each)."""
    rnd = random.Random(seed)
    out = []
    for i in range(n_sentences):
        year = 1945 + (i + seed) % 12
        out.append(
            f"{rnd.choice(_SUBJECTS)} {rnd.choice(_VERBS)} {rnd.choice(_OBJECTS)} in {year}{tag}."
        )
    return " ".join(out)


def vectors_written(chroma: Path) -> bool:
    """True once the first HNSW segment file exists: the run is past model loading and writing chunks.

    Looks at the file system only; reading the SQLite file of a store that is being written could
    interfere with the writer.
    """
    return chroma.is_dir() and any(chroma.glob("*/data_level0.bin"))


def kill_while_writing(proc, chroma: Path, delay: float) -> None:
    """SIGKILL an ingest subprocess `delay` seconds after it started writing vectors into `chroma`."""
    import signal
    import time

    try:
        deadline = time.monotonic() + 240
        while not vectors_written(chroma):
            assert proc.poll() is None, f"ingest ended before it could be killed: {proc.communicate()}"
            assert time.monotonic() < deadline, "ingest never started writing vectors"
            time.sleep(0.02)
        time.sleep(delay)
        assert proc.poll() is None, "ingest finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- settings and store read-back


def settings_at(data_dir: Path, **overrides):
    """Settings for a store in `data_dir` (for module/session fixtures, which cannot use make_settings)."""
    from rag.settings import Settings

    overrides.setdefault("chroma_url", None)
    overrides.setdefault("corpus_dir", Path(data_dir).parent / "corpus")
    return Settings(data_dir=Path(data_dir), **overrides)


def open_store(settings):
    from rag.embedding import get_embedder
    from rag.store import Store

    return Store(settings, get_embedder(settings.embedding_model).fingerprint)


def stored_chunks(settings) -> dict[str, tuple[str, dict]]:
    """chunk id -> (text, metadata) for every chunk in the store."""
    got = open_store(settings).chunks().get(include=["documents", "metadatas"])
    return {
        i: (d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
    }


def chunks_of(settings, source: Path) -> list[tuple[str, str, dict]]:
    """(id, text, metadata) of one file's chunks, in chunk_index order."""
    key = Path(source).resolve().as_posix()
    got = (
        open_store(settings).chunks().get(where={"source": key}, include=["documents", "metadatas"])
    )
    rows = list(zip(got["ids"], got["documents"], got["metadatas"], strict=True))
    return sorted(rows, key=lambda r: r[2]["chunk_index"])


def doc_text(source: Path) -> str:
    """The cleaned document text whose offsets char_start/char_end refer to (as the pipeline builds it)."""
    from ingest.loaders import load_file

    return "\n\n".join(t for _, t in load_file(Path(source)).pages)


def sentence_rows(settings) -> dict[str, tuple[str, dict]]:
    """`<chunk id>::s<nnn>` -> (text, {chunk_id, doc_id, source, start, end, vector}) for every
    sentence the store's chunks carry (spans and vectors live in each chunk's metadata)."""
    from rag.chunk_schema import SENTENCE_VECTORS, decode_sentence_vectors, sentence_spans_of

    out = {}
    for cid, (text, meta) in stored_chunks(settings).items():
        meta = dict(meta)
        vecs = decode_sentence_vectors(meta.pop(SENTENCE_VECTORS, None), meta)
        for j, (a, b) in enumerate(sentence_spans_of(meta)):
            row = {"chunk_id": cid, "doc_id": meta["doc_id"], "source": meta["source"], "start": a, "end": b}
            row["vector"] = None if vecs is None else vecs[j]
            out[f"{cid}::s{j:03d}"] = (text[a:b], row)
    return out


def snapshot(settings) -> dict:
    """Everything that must be equal between two runs that should end in the same state."""
    store = open_store(settings)
    chunks = stored_chunks(settings)
    sents = sentence_rows(settings)
    return {
        "chunks": chunks,
        "sentences": {i: (d, {**m, "vector": None}) for i, (d, m) in sents.items()},
        "files": {
            k: (m.content_hash, m.doc_id, m.n_chunks) for k, m in store.manifest().items()
        },
        "count": store.count(),
    }


# --------------------------------------------------------------------------- a folder of bad input

# file name -> regex the failure reason must match
BAD_FILES = {
    "empty.txt": r"^empty\.txt: empty file",
    "blank-lines.md": r"^blank-lines\.md: empty file",
    "binary.txt": r"^binary\.txt: binary file",
    "encrypted.pdf": r"^encrypted\.pdf: encrypted PDF",
    "scanned.pdf": r"^scanned\.pdf: PDF has no text layer",
    "corrupt.pdf": r"^corrupt\.pdf: unreadable or corrupt PDF",
    "notes.docx": r"^notes\.docx: unsupported file type \.docx",
    "link-outside.txt": r"symlink leads outside the ingested folder",
    "dup-b.md": r"^dup-b\.md: doc_id 'same-id' is already used by .*/dup-a\.md",
    "bad-front.md": r"^bad-front\.md: invalid YAML front matter",
    "bad-sidecar.txt": r"^bad-sidecar\.txt\.meta\.yaml: invalid YAML sidecar",
}
GOOD_FILES = ["good-one.txt", "good-two.md", "dup-a.md"]


def build_bad_corpus(base: Path) -> Path:
    """base/docs with three good files and one of each kind of bad file; base/outside is a symlink target."""
    import os

    root = base / "docs"
    write(root / "good-one.txt", prose(3, seed=11))
    write(root / "good-two.md", "# Good two\n\n" + prose(2, seed=12))
    write(root / "empty.txt", b"")
    write(root / "blank-lines.md", " \n\t\n\u00a0\n")
    rnd = random.Random(5)
    write(root / "binary.txt", bytes(rnd.randrange(256) for _ in range(2048)) + b"\x00\x00\x01\x02")
    write(root / "encrypted.pdf", encrypted_pdf())
    write(root / "scanned.pdf", blank_pdf())
    write(root / "corrupt.pdf", b"%PDF-1.4\n" + bytes(rnd.randrange(256) for _ in range(1500)))
    write(root / "notes.docx", b"PK\x03\x04" + bytes(rnd.randrange(256) for _ in range(200)))
    write(base / "outside" / "secret.txt", "A secret outside the corpus folder.")
    os.symlink(base / "outside" / "secret.txt", root / "link-outside.txt")
    write(root / "dup-a.md", "---\ndoc_id: same-id\n---\n" + prose(2, seed=13))
    write(root / "dup-b.md", "---\ndoc_id: Same ID\n---\n" + prose(2, seed=14))
    write(root / "bad-front.md", "---\ntitle: [unclosed\nyear: 1950\n---\nBody text here.\n")
    write(root / "bad-sidecar.txt", "A text with a broken sidecar.")
    write(root / "bad-sidecar.txt.meta.yaml", "title: {unclosed\n")
    return root
