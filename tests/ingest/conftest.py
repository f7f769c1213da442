"""Fixtures shared by the ingest tests: the embedder and one small mixed-format corpus ingested once."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

import pytest
from ingest_testlib import (
    CP1252_TEXT,
    FRONT_MD,
    HTML_PAGE,
    JA_TEXT,
    PDF_PAGES,
    UTF8_BOM_TEXT,
    UTF16_TEXT,
    make_pdf,
    one_torch_thread,
    settings_at,
    write,
)


@dataclass
class Corpus:
    root: Path
    settings: object
    report: object

    def path(self, name: str) -> Path:
        return self.root / name


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Encode with one torch thread in these tests; the previous count is restored after each module."""
    with one_torch_thread():
        yield


@pytest.fixture(scope="session")
def embedder():
    from rag.embedding import get_embedder
    from rag.settings import Settings

    return get_embedder(Settings(chroma_url=None).embedding_model)


def build_formats_corpus(root: Path) -> None:
    write(root / "utf16-le.txt", UTF16_TEXT.encode("utf-16"))  # BOM + little endian
    write(root / "utf16-be.txt", codecs.BOM_UTF16_BE + UTF16_TEXT.encode("utf-16-be"))
    write(root / "utf8-bom.txt", codecs.BOM_UTF8 + UTF8_BOM_TEXT.encode("utf-8"))
    write(root / "shift-jis.txt", JA_TEXT.encode("shift_jis"))
    write(root / "cp1252.txt", CP1252_TEXT.encode("cp1252"))
    write(root / "front.md", FRONT_MD)
    write(root / "report.pdf", make_pdf(PDF_PAGES))
    write(
        root / "report.pdf.meta.yaml",
        'title: Port Report\nauthors: ["Ivanov, I.", "Li, W."]\nyear: 1956\n'
        "container: Far Eastern Review\npages: 1-2\ndoc_id: port-report\n",
    )
    write(root / "harbin-page.html", HTML_PAGE)
    write(
        root / "annotated.html",
        "<html><head><title>Title From Html</title></head><body><p>An annotated web page. It has a sidecar.</p></body></html>",
    )
    write(
        root / "annotated.html.meta.yaml",
        "title: Title From Sidecar\nyear: 1951\nurl: http://example.org/a\n",
    )
    write(
        root / "Smith_1950-Camps in Siberia.txt",
        "Camps in Siberia held many men. Winters were long.",
    )
    write(root / "notes.txt", "Field notes from the port. The ships were late.")
    write(
        root / "notes.txt.meta.yaml",
        "title: Field Notes\nauthors: A. Petrov; B. Kim\nyear: c. 1949\ntype: diary\n",
    )


@pytest.fixture(scope="session")
def formats_corpus(tmp_path_factory) -> Corpus:
    """Every supported format and encoding, with and without metadata, ingested once (read-only for tests)."""
    from ingest import ingest_paths
    from rag.store import forget_client

    base = tmp_path_factory.mktemp("formats")
    root = base / "docs"
    build_formats_corpus(root)
    settings = settings_at(base / "data")
    with one_torch_thread():  # session fixtures run outside the module-scoped autouse fixture
        report = ingest_paths([root], settings, progress=False)
    yield Corpus(root, settings, report)
    forget_client(settings)
