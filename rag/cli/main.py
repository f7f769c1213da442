"""The `cadres` group: settings, ingest, ask, eval, ui, serve. Commands are added here by name,
not registered by import side effects; errors keep one format and no traceback reaches a user."""

from __future__ import annotations

import os
import sys

import click

from rag.cli.ask import ask_command
from rag.cli.common import fail
from rag.cli.evaluate import eval_command
from rag.cli.ingest import ingest_command
from rag.cli.serve import serve_command
from rag.cli.show_settings import settings_command
from rag.cli.ui import ui_command


@click.group("cadres", context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Cited answers over the cadres-qa corpus."""


for _command in (settings_command, ingest_command, ask_command, eval_command, ui_command, serve_command):
    cli.add_command(_command)


def _usage_error(e: click.UsageError) -> int:
    """`cadres ask: error: argument --k: must be between 1 and 50, got 0`, after the usage line."""
    where = e.ctx.command_path if e.ctx else "cadres"
    if e.ctx:
        print(e.ctx.get_usage(), file=sys.stderr)
    msg = e.format_message()
    if isinstance(e, click.BadParameter) and e.param is not None:
        names = "/".join(e.param.opts) if e.param.param_type_name == "option" else e.param.name
        msg = f"argument {names}: {e.message}"
    print(f"{where}: error: {msg}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        rv = cli.main(args=argv, prog_name="cadres", standalone_mode=False)
    except click.UsageError as e:
        return _usage_error(e)
    except click.exceptions.Exit as e:  # --help
        return e.exit_code
    except (click.Abort, KeyboardInterrupt):
        return fail("interrupted", 130)
    except SystemExit:
        raise
    except Exception as e:  # the last line of defence: no traceback reaches a user
        if os.environ.get("CADRES_DEBUG"):
            raise
        return fail(f"{type(e).__name__}: {e} (set CADRES_DEBUG=1 for a traceback)")
    return int(rv or 0)


if __name__ == "__main__":
    sys.exit(main())
