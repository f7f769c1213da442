"""What every subcommand shares: exit codes, the one error format, settings read with the
variable's name in any error, and the --k type. Imports nothing heavy."""

from __future__ import annotations

import sys

import click

EXIT_OK, EXIT_FATAL, EXIT_PARTIAL = 0, 1, 2


def fail(msg: str, code: int = EXIT_FATAL) -> int:
    """Print `cadres: error: MSG` on stderr and return the exit code (never a traceback)."""
    print(f"cadres: error: {msg}", file=sys.stderr)
    return code


def load_settings():
    """The settings; an invalid CADRES_* value ends the command naming the variable."""
    from pydantic import ValidationError

    from rag.settings import Settings

    try:
        return Settings()
    except ValidationError as e:
        err = e.errors()[0]
        field = "CADRES_" + str(err["loc"][0]).upper() if err["loc"] else "settings"
        raise SystemExit(fail(f"{field}: {err['msg']}")) from None


class KType(click.ParamType):
    """--k: a whole number in the Assistant's range; anything else is a usage error naming it."""

    name = "k"

    def convert(self, value, param, ctx) -> int:
        from rag.checks import K_MAX, K_MIN

        try:
            k = int(value)
        except (TypeError, ValueError):
            self.fail(f"must be a whole number from {K_MIN} to {K_MAX}, got {value!r}", param, ctx)
        if not K_MIN <= k <= K_MAX:
            self.fail(f"must be between {K_MIN} and {K_MAX}, got {k}", param, ctx)
        return k


K = KType()
