"""A model's identity, kept apart so that the ONNX query encoder (which must not import the
embedding module and its sentence-transformers machinery) and the embedder both name a model the
same way: stores and ONNX files are keyed by it."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["model_fingerprint"]


def model_fingerprint(name_or_path: str) -> str:
    """A stable identity for a model, independent of where its folder lies (venvs differ)."""
    p = Path(name_or_path)
    if not p.is_dir():
        return name_or_path
    h = hashlib.sha256()
    for fname in ("config.json", "modules.json", "tokenizer.json", "vocab.txt"):
        f = p / fname
        if f.exists():
            h.update(f.read_bytes())
    for fname in ("model.safetensors", "pytorch_model.bin"):
        f = p / fname
        if f.exists():
            h.update(str(f.stat().st_size).encode())
    return f"{p.name}:{h.hexdigest()[:16]}"
