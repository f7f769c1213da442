"""The shared corpus store (tests/corpus_store.py), registered once per session."""

from __future__ import annotations
