"""`cadres ui`: the subcommand's options and the streamlit command it runs (without starting it)."""

from __future__ import annotations

import sys

import pytest

import rag.cli_ui as cli_ui
from rag.cli import build_parser


def test_ui_is_registered_with_port_and_host():
    args = build_parser().parse_args(["ui"])
    assert (args.port, args.host) == (8501, "127.0.0.1")
    args = build_parser().parse_args(["ui", "--port", "9123", "--host", "0.0.0.0"])
    assert (args.port, args.host) == (9123, "0.0.0.0")
    assert args.func is cli_ui.cmd_ui


def test_streamlit_command():
    cmd = cli_ui.streamlit_command("127.0.0.1", 9123)
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert cmd[4].endswith("ui/app.py") and cli_ui.app_path().is_file()
    flags = dict(zip(cmd[5::2], cmd[6::2], strict=True))
    assert flags == {
        "--server.headless": "true",
        "--server.port": "9123",
        "--server.address": "127.0.0.1",
        "--browser.gatherUsageStats": "false",
        "--client.toolbarMode": "minimal",
    }


def test_cmd_ui_execs_streamlit(monkeypatch):
    seen = {}

    def fake_execv(exe, argv):
        seen["argv"] = argv
        raise SystemExit(0)

    monkeypatch.setattr(cli_ui.os, "execv", fake_execv)
    monkeypatch.setattr(cli_ui.subprocess, "call", lambda cmd: seen.setdefault("argv", cmd) and 0)
    args = build_parser().parse_args(["ui", "--port", "9555"])
    try:
        rc = args.func(args)
    except SystemExit as e:
        rc = e.code
    assert rc == 0
    assert seen["argv"][seen["argv"].index("--server.port") + 1] == "9555"


@pytest.mark.parametrize("port", ["0", "70000"])
def test_bad_port_is_refused(port, capsys):
    args = build_parser().parse_args(["ui", "--port", port])
    assert args.func(args) == 1
    assert "--port" in capsys.readouterr().err
