"""Helpers shared by the UI tests (imported by name: tests/ui is on sys.path, like tests/ingest)."""

from __future__ import annotations

import os
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"


def point_app_at(monkeypatch, settings, **extra) -> None:
    """The app reads Settings from the environment: scrub CADRES_* and point it at `settings`' store."""
    for k in list(os.environ):
        if k.startswith("CADRES_"):
            monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("CADRES_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CADRES_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("CADRES_LLM", "extractive")
    for k, v in extra.items():
        monkeypatch.setenv(f"CADRES_{k.upper()}", str(v))
