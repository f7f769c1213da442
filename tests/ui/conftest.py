"""UI test fixtures: the shared corpus store, an environment pointing the app at a store, AppTest."""

from __future__ import annotations

import pytest
from uitestlib import APP, point_app_at


@pytest.fixture
def app_env(monkeypatch, corpus_settings):
    point_app_at(monkeypatch, corpus_settings)
    return corpus_settings


@pytest.fixture
def new_app():
    """new_app() -> a fresh AppTest (one browser session) of ui/app.py, already run once."""
    from streamlit.testing.v1 import AppTest

    def make():
        at = AppTest.from_file(str(APP), default_timeout=180)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return make
