"""Uploaded documents on the chat page: stored by the one upload policy (ingest.uploads) and
ingested one by one.

Each saved file is ingested by its own path (never the uploads folder), so an upload can only add or
update that one document; nothing else in the store is pruned.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ingest.uploads import (
    UploadRejected,
    document_types,
    ingest_stored,
    kind_of,
    store_upload,
)
from rag.settings import Settings


def accepted_types() -> list[str]:
    """What the file picker offers: the loaders' types and metadata sidecars."""
    return [t.lstrip(".") for t in document_types()] + ["yaml"]


@dataclass
class UploadResult:
    name: str  # the name the user gave
    ok: bool
    message: str
    saved_as: str | None = None
    chunks: int = 0


@dataclass
class UploadSummary:
    results: list[UploadResult] = field(default_factory=list)

    @property
    def added(self) -> list[UploadResult]:
        return [r for r in self.results if r.ok]

    @property
    def failed(self) -> list[UploadResult]:
        return [r for r in self.results if not r.ok]


def ingest_uploads(
    files: Iterable[tuple[str, bytes]],
    settings: Settings,
    progress: Callable[[int, int, str], None] | None = None,
    ingest: Callable | None = None,
) -> UploadSummary:
    """Check, store and ingest each (name, bytes); every file gets its own result, none stops the rest.

    `progress(done, total, name)` is called before each file and once at the end.
    """
    files = sorted(files, key=lambda f: kind_of(f[0]) != "sidecar")  # metadata before its document
    summary = UploadSummary()
    total = len(files)
    for i, (name, data) in enumerate(files):
        if progress:
            progress(i, total, name)
        summary.results.append(_one(name, data, settings, ingest))
    if progress:
        progress(total, total, "")
    return summary


def _one(name: str, data: bytes, settings: Settings, ingest: Callable) -> UploadResult:
    try:
        up = store_upload(name, data or b"", settings.uploads_dir, settings.max_file_mb)
    except UploadRejected as e:
        return UploadResult(name, False, str(e))
    except OSError as e:
        return UploadResult(name, False, f"{name}: could not be stored ({e.strerror or e})")
    saved = up.path.name
    try:
        report = ingest_stored([up], settings, ingest)
    except Exception as e:  # IngestFatal (lock, store) or anything unexpected: reported, not raised
        kept = "; the earlier version's file is kept" if up.status == "replaced" else ""
        return UploadResult(name, False, f"{name}: {e}{kept}", saved_as=saved)
    if report.files_failed:
        reason = "; ".join(_strip_dir(f.error, up.path) for f in report.files_failed)
        if up.kind == "sidecar":
            reason = f"{name}: metadata saved, but {reason}"
        return UploadResult(name, False, reason, saved_as=saved)
    if up.document is not None:
        doc = up.document.name
        if not report.files_seen:
            return UploadResult(name, True, f"{name}: metadata saved; it applies when {doc} is uploaded", saved_as=saved)
        return UploadResult(name, True, f"{name}: metadata applied to {doc}", saved_as=saved)
    if up.status == "unchanged" or (report.files_unchanged and not (report.files_added or report.files_updated)):
        return UploadResult(name, True, f"{name}: already in the corpus (unchanged)", saved_as=saved)
    n = report.chunks_added
    verb = "replaced the earlier version" if up.status == "replaced" else "added"
    added = f"{name}: {verb} ({n} chunk{'' if n == 1 else 's'})"
    if report.warnings:  # e.g. a guessed encoding or a scanned page too poor to read
        added += "; note: " + "; ".join(_strip_dir(w.warning, up.path) for w in report.warnings)
    return UploadResult(name, True, added, saved_as=saved, chunks=n)


def _strip_dir(message: str, path: Path) -> str:
    """Error messages name the file, not the server's folders."""
    return str(message).replace(str(path.parent) + os.sep, "")
