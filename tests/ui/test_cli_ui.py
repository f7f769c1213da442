"""`cadres ui`: the subcommand's options and the streamlit command it runs (without starting it)."""

from __future__ import annotations

import sys

import pytest

import rag.cli.ui as cli_ui
from rag.cli.main import cli, main


def test_ui_is_a_command_of_the_group_with_port_and_host():
    assert cli.get_command(None, "ui") is cli_ui.ui_command
    defaults = {p.name: p.default for p in cli_ui.ui_command.params}
    assert defaults == {"port": 8501, "host": "127.0.0.1"}


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
    try:
        rc = main(["ui", "--port", "9555"])
    except SystemExit as e:
        rc = e.code
    assert rc == 0
    assert seen["argv"][seen["argv"].index("--server.port") + 1] == "9555"


@pytest.mark.parametrize("port", ["0", "70000"])
def test_bad_port_is_refused(port, capsys):
    assert main(["ui", "--port", port]) == 1
    assert "--port" in capsys.readouterr().err
