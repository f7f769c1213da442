"""rag/cli: a click group whose subcommands live in their own modules, added by name, with no import circle."""

from __future__ import annotations

import ast
from pathlib import Path

CLI = Path(__file__).resolve().parents[2] / "rag" / "cli"


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m == "rag.cli" or m.startswith("rag.cli.")}


def test_no_cli_module_imports_one_that_imports_it_back():
    graph = {f"rag.cli.{p.stem}" if p.stem != "__init__" else "rag.cli": _imports(p) for p in CLI.glob("*.py")}

    def reach(start, seen=None):
        seen = set() if seen is None else seen
        for nxt in graph.get(start, ()):
            if nxt not in seen:
                seen.add(nxt)
                reach(nxt, seen)
        return seen

    for mod in graph:
        assert mod not in reach(mod), f"{mod} is part of an import circle"
    assert graph["rag.cli"] == set()  # the package imports nothing
    assert all(deps <= {"rag.cli.common"} for mod, deps in graph.items() if mod != "rag.cli.main")


def test_every_subcommand_is_in_the_group():
    from rag.cli.main import cli

    assert set(cli.commands) == {"settings", "ingest", "ask", "eval", "ui", "serve"}


def test_help_and_unknown_command(capsys):
    from rag.cli.main import main

    assert main(["--help"]) == 0
    assert "ask" in capsys.readouterr().out
    assert main(["nope"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == "cadres: error: No such command 'nope'."
