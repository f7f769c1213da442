"""Shared fixtures for the whole test suite: settings in tmp dirs, CLI runs, a real Chroma server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

# The shipped corpus, ingested once per session for every folder that reads it.
pytest_plugins = ["tests.corpus_store"]

# Offline and quiet before anything imports transformers or chromadb (they are imported lazily).
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def venv_tool(name: str) -> str | None:
    """Path of a console script installed next to the running interpreter (or on PATH)."""
    p = VENV_BIN / name
    if p.exists():
        return str(p)
    p = REPO_ROOT / ".venv" / "bin" / name
    if p.exists():
        return str(p)
    return shutil.which(name)


def build_settings(data_dir: Path, **overrides):
    """Settings rooted in `data_dir`, immune to CADRES_CHROMA_URL etc. in the developer's shell."""
    from rag.settings import Settings

    overrides.setdefault("chroma_url", None)
    overrides.setdefault("corpus_dir", Path(data_dir).parent / "corpus")
    return Settings(data_dir=Path(data_dir), **overrides)


@pytest.fixture
def make_settings(tmp_path) -> Callable:
    """Factory: make_settings(**overrides) -> Settings with data_dir=tmp_path/"data" unless given.

    Store clients opened for these settings are forgotten at teardown.
    """
    made = []

    def factory(**overrides):
        data_dir = overrides.pop("data_dir", tmp_path / "data")
        s = build_settings(data_dir, **overrides)
        made.append(s)
        return s

    yield factory
    from rag.store import forget_client

    for s in made:
        forget_client(s)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    return _free_port()


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without CADRES_* variables, offline, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADRES_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.update({k: str(v) for k, v in extra.items()})
    return env


class CadresCli:
    """The `cadres` console script, run with a scrubbed environment (no CADRES_* from the shell)."""

    def __init__(self, cmd: list[str] | None = None) -> None:
        exe = venv_tool("cadres")
        self.cmd = cmd or ([exe] if exe else [sys.executable, "-m", "rag"])

    def run(self, *args, env: dict | None = None, timeout: float = 300, cwd=None):
        """Run to completion: CompletedProcess with text stdout/stderr."""
        return subprocess.run(
            [*self.cmd, *map(str, args)],
            env=clean_env(**(env or {})),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
        )

    def popen(self, *args, env: dict | None = None, cwd=None) -> subprocess.Popen:
        """Start in the background (stdout/stderr piped, text mode); the caller waits or kills it."""
        return subprocess.Popen(
            [*self.cmd, *map(str, args)],
            env=clean_env(**(env or {})),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
        )


@pytest.fixture(scope="session")
def cadres_cli() -> CadresCli:
    """`cadres_cli.run("ingest", "--json", env={"CADRES_DATA_DIR": ...})` or `.popen(...)`.

    `CadresCli([sys.executable, "-m", "rag"])` (via `type(cadres_cli)(...)`) runs the module form.
    """
    return CadresCli()


def _heartbeat(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


@dataclass
class ChromaServer:
    url: str  # http://127.0.0.1:PORT, the value for CADRES_CHROMA_URL
    host: str
    port: int
    path: Path  # the server's persistence folder


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """A real `chroma run` server on a free port, persisting in a tmp folder (module-scoped)."""
    exe = venv_tool("chroma")
    if not exe:
        pytest.skip("the `chroma` server binary is not installed (.venv/bin/chroma missing)")
    path = tmp_path_factory.mktemp("chroma-server")
    log = open(path.parent / f"{path.name}.log", "wb")  # noqa: SIM115 (closed at teardown)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [exe, "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=clean_env(),
    )
    try:
        deadline = time.monotonic() + 60
        while not _heartbeat(url):
            if proc.poll() is not None:
                pytest.fail(f"chroma server exited with {proc.returncode}; log in {log.name}")
            if time.monotonic() > deadline:
                pytest.fail(f"chroma server did not answer {url}/api/v2/heartbeat within 60 s")
            time.sleep(0.1)
        yield ChromaServer(url=url, host="127.0.0.1", port=port, path=path / "db")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
