"""`cadres ui`: the Streamlit chat UI (ui/app.py) on HOST:PORT."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rag.cli import _fail, _settings
from rag.cli_commands import register


def app_path() -> Path:
    """ui/app.py next to the rag package (repository checkout or editable install)."""
    here = Path(__file__).resolve().parents[1] / "ui" / "app.py"
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


@register("ui")
def ui_parser(p) -> None:
    """start the Streamlit chat UI (http://HOST:PORT)"""
    p.add_argument("--port", type=int, default=8501, help="port to listen on (default 8501)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; 0.0.0.0 for all interfaces)",
    )
    p.set_defaults(func=cmd_ui)


def cmd_ui(args) -> int:
    if not 1 <= args.port <= 65535:
        return _fail(f"--port: must be between 1 and 65535, got {args.port}")
    if not str(args.host).strip():
        return _fail("--host: must not be empty")
    _settings()  # invalid CADRES_* settings fail here, with the variable's name
    app = app_path()
    if not app.is_file():
        return _fail(f"the UI script {app} is missing; reinstall cadres-qa")
    cmd = streamlit_command(args.host, args.port, app)
    print(f"cadres-qa UI on http://{args.host}:{args.port} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    sys.stdout.flush()
    if os.name == "posix":
        os.execv(sys.executable, cmd)  # streamlit takes over this process: signals reach it directly
    return subprocess.call(cmd)
