"""`cadres ingest`: embed files and folders into the store (incremental, crash-safe)."""

from __future__ import annotations

import sys

import click

from rag.cli.common import fail, load_settings


@click.command("ingest")
@click.argument("paths", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="print the IngestReport as JSON")
@click.option("--rebuild", is_flag=True, help="drop the index and ingest from scratch")
def ingest_command(paths: tuple[str, ...], as_json: bool, rebuild: bool) -> int:
    """embed documents into the store (incremental)

    PATHS are files or folders (default: CADRES_CORPUS_DIR, docs_corpus/)."""
    from ingest.pipeline import IngestFatal, ingest_paths

    settings = load_settings()
    try:
        report = ingest_paths(list(paths) or None, settings, rebuild=rebuild)
    except IngestFatal as e:
        return fail(str(e))
    if as_json:
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
