"""rag.api.protocol: the Assistant is what the API's protocol describes, and the API calls nothing else."""

from __future__ import annotations

import ast
from pathlib import Path

from rag.api.protocol import AssistantService


def test_the_assistant_satisfies_the_protocol(make_settings):
    from rag import Assistant

    assert isinstance(Assistant(make_settings()), AssistantService)


def test_routes_use_only_protocol_members():
    allowed = {n for n in dir(AssistantService) if not n.startswith("_")} | {"settings"}
    used = set()
    for f in Path(__file__).resolve().parents[2].joinpath("rag", "api").glob("*.py"):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("qa", "assistant"):
                used.add(node.attr)
    assert used and used <= allowed, used - allowed
