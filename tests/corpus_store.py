"""Session fixtures over the shipped corpus: ingested once per test session, shared read-only.

Tests that only read (retrieval, answers, UI, HTTP, evaluation) use `corpus_settings` / `assistant`;
tests that write make their own stores with `make_settings`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS = REPO_ROOT / "docs_corpus"
DEV_QUESTIONS = REPO_ROOT / "eval" / "dev_questions.jsonl"


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory):
    """Settings whose store holds docs_corpus/ (real model, real embedded Chroma)."""
    from ingest import ingest_paths
    from rag.settings import Settings

    data_dir = tmp_path_factory.mktemp("corpus-store")
    settings = Settings(data_dir=data_dir, chroma_url=None, corpus_dir=CORPUS, llm="extractive")
    report = ingest_paths([CORPUS], settings, progress=False)
    assert not report.files_failed, report.files_failed
    assert report.chunks_total > 100
    return settings


@pytest.fixture(scope="session")
def assistant(corpus_settings):
    from rag import Assistant

    return Assistant(corpus_settings)
