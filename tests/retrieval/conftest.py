"""The shared corpus store (tests/corpus_store.py), registered once per session."""

from __future__ import annotations


def pytest_configure(config):
    # Registered as a plugin (global fixtures), not imported into each conftest, which would give
    # every folder its own session fixture and so its own 1-3 minute ingest.
    for name in ("tests.corpus_store", "corpus_store"):
        if config.pluginmanager.has_plugin(name):
            return
    try:
        config.pluginmanager.import_plugin("tests.corpus_store")
    except ImportError:
        config.pluginmanager.import_plugin("corpus_store")
