"""Run the CLI in a subprocess with a scrubbed environment (no CADRES_* from the developer's shell)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CADRES = Path(sys.executable).parent / "cadres"


def env(**extra) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("CADRES_")}
    e.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False", TOKENIZERS_PARALLELISM="false")
    e.update({k: str(v) for k, v in extra.items()})
    return e


def run_module(*args, timeout: float = 300, **extra) -> subprocess.CompletedProcess:
    """`python -m rag ARGS`."""
    return subprocess.run([sys.executable, "-m", "rag", *map(str, args)], env=env(**extra),
                          capture_output=True, text=True, timeout=timeout)


def run_cadres(*args, timeout: float = 300, **extra) -> subprocess.CompletedProcess:
    """The `cadres` console script (the module form when the script is not installed)."""
    cmd = [str(CADRES)] if CADRES.exists() else [sys.executable, "-m", "rag"]
    return subprocess.run([*cmd, *map(str, args)], env=env(**extra), capture_output=True, text=True, timeout=timeout)
