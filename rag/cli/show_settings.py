"""`cadres settings`: the effective settings as JSON (secrets masked)."""

from __future__ import annotations

import json

import click

from rag.cli.common import EXIT_OK, load_settings


@click.command("settings")
def settings_command() -> int:
    """print the effective settings as JSON"""
    print(json.dumps(load_settings().public_dict(), indent=2))
    return EXIT_OK
