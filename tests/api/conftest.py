"""Fixtures for the HTTP API tests: apps over the shared corpus Assistant."""

from __future__ import annotations

import pytest
from api_testlib import settings_like

# The session corpus (ingested once per run) and its Assistant. Imported rather than listed in
# pytest_plugins, which pytest only honours in the top-level conftest.
try:
    from tests.corpus_store import assistant, corpus_settings  # noqa: F401
except ImportError:  # `pytest` run without the repo root on sys.path
    from corpus_store import assistant, corpus_settings  # noqa: F401


@pytest.fixture
def make_app(corpus_settings, assistant):  # noqa: F811
    """make_app(qa=None, **settings_overrides) -> FastAPI over the shared corpus Assistant."""
    from rag.api.app import create_app

    def factory(qa=None, **overrides):
        return create_app(settings_like(corpus_settings, **overrides), qa or assistant)

    return factory


@pytest.fixture
def client(make_app):
    from fastapi.testclient import TestClient

    with TestClient(make_app()) as c:
        yield c


# TEMPORARY DEV OVERRIDE (remove before handing over)
import os  # noqa: E402

if os.environ.get("DEV_CORPUS_DATA_DIR"):
    del corpus_settings, assistant

    @pytest.fixture(scope="session")
    def corpus_settings():
        from rag.settings import Settings

        return Settings(data_dir=os.environ["DEV_CORPUS_DATA_DIR"], chroma_url=None, llm="extractive")

    @pytest.fixture(scope="session")
    def assistant(corpus_settings):
        from rag import Assistant

        return Assistant(corpus_settings)
