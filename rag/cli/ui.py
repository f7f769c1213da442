"""`cadres ui`: the Streamlit chat UI (ui/app.py) on HOST:PORT."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

from rag.cli.common import fail, load_settings


def app_path() -> Path:
    """ui/app.py next to the rag package (repository checkout or editable install)."""
    here = Path(__file__).resolve().parents[2] / "ui" / "app.py"
    if here.is_file():
        return here
    import importlib.util

    spec = importlib.util.find_spec("ui")
    if spec and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))) / "app.py"
    return here


def streamlit_command(host: str, port: int, app: Path | None = None) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app or app_path()),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]


@click.command("ui")
@click.option("--port", type=int, default=8501, help="port to listen on (default 8501)")
@click.option("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for all interfaces)")
def ui_command(port: int, host: str) -> int:
    """start the Streamlit chat UI (http://HOST:PORT)"""
    if not 1 <= port <= 65535:
        return fail(f"--port: must be between 1 and 65535, got {port}")
    if not str(host).strip():
        return fail("--host: must not be empty")
    load_settings()  # invalid CADRES_* settings fail here, with the variable's name
    app = app_path()
    if not app.is_file():
        return fail(f"the UI script {app} is missing; reinstall cadres-qa")
    cmd = streamlit_command(host, port, app)
    print(f"cadres-qa UI on http://{host}:{port} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    sys.stdout.flush()
    if os.name == "posix":
        os.execv(sys.executable, cmd)  # streamlit takes over this process: signals reach it directly
    return subprocess.call(cmd)
