"""Fixtures for the HTTP API tests: apps over the shared corpus Assistant."""

from __future__ import annotations

import pytest
from api_testlib import settings_like


@pytest.fixture
def make_app(corpus_settings, assistant):
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
