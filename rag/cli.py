"""`cadres` command line: settings, ingest, ask, eval, ui, serve."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable

EXIT_OK, EXIT_FATAL, EXIT_PARTIAL = 0, 1, 2


def _fail(msg: str, code: int = EXIT_FATAL) -> int:
    print(f"cadres: error: {msg}", file=sys.stderr)
    return code


def k_arg(text: str) -> int:
    """argparse type for --k: a usage error (exit 2) naming the range, never a silent default."""
    from rag.assistant import K_MAX, K_MIN

    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number from {K_MIN} to {K_MAX}, got {text!r}") from None
    if not K_MIN <= k <= K_MAX:
        raise argparse.ArgumentTypeError(f"must be between {K_MIN} and {K_MAX}, got {k}")
    return k


def _settings():
    from pydantic import ValidationError

    from rag.settings import Settings

    try:
        return Settings()
    except ValidationError as e:
        err = e.errors()[0]
        field = "CADRES_" + str(err["loc"][0]).upper() if err["loc"] else "settings"
        raise SystemExit(_fail(f"{field}: {err['msg']}")) from None


def cmd_settings(args) -> int:
    print(json.dumps(_settings().public_dict(), indent=2))
    return EXIT_OK


def cmd_ingest(args) -> int:
    from ingest.pipeline import IngestFatal, ingest_paths

    settings = _settings()
    try:
        report = ingest_paths(args.paths or None, settings, rebuild=args.rebuild)
    except IngestFatal as e:
        return _fail(str(e))
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        print(
            f"ingested {report.files_seen} file(s): {report.files_added} added, {report.files_updated} updated, "
            f"{report.files_unchanged} unchanged, {report.files_removed} removed, {len(report.files_failed)} failed; "
            f"chunks +{report.chunks_added} -{report.chunks_removed} = {report.chunks_total} "
            f"in {report.seconds:.1f} s"
        )
        for f in report.files_failed:
            print(f"  failed: {f.path}: {f.error}", file=sys.stderr)
        for w in report.warnings:
            print(f"  warning: {w.path}: {w.warning}", file=sys.stderr)
    return report.exit_code


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cadres", description="Cited answers over the cadres-qa corpus.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("settings", help="print the effective settings as JSON")
    s.set_defaults(func=cmd_settings)

    s = sub.add_parser("ingest", help="embed documents into the store (incremental)")
    s.add_argument("paths", nargs="*", help="files or folders (default: docs_corpus/)")
    s.add_argument("--json", action="store_true", help="print the IngestReport as JSON")
    s.add_argument("--rebuild", action="store_true", help="drop the index and ingest from scratch")
    s.set_defaults(func=cmd_ingest)

    for name, register in _EXTRA_COMMANDS:
        register(sub.add_parser(name, help=register.__doc__))
    return p


_EXTRA_COMMANDS: list[tuple[str, Callable]] = []


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import rag.cli_commands  # noqa: F401  (registers ask and eval)
    import rag.cli_serve  # noqa: F401
    import rag.cli_ui  # noqa: F401

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except SystemExit:
        raise
    except Exception as e:  # the last line of defence: no traceback reaches a user
        if os.environ.get("CADRES_DEBUG"):
            raise
        return _fail(f"{type(e).__name__}: {e} (set CADRES_DEBUG=1 for a traceback)")


if __name__ == "__main__":
    sys.exit(main())
