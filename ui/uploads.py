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
    SIDECAR,
    StoredUpload,
    UploadRejected,
    document_types,
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
    if ingest is None:
        from ingest import ingest_paths as ingest
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
    if up.kind == "sidecar":
        return _sidecar(up, settings, ingest)
    try:
        report = ingest([up.path], settings, progress=False)
    except Exception as e:  # IngestFatal (lock, store) or anything unexpected: reported, not raised
        kept = _undo(up, settings, ingest)
        return UploadResult(name, False, f"{name}: {e}{kept}", saved_as=up.path.name)
    if report.files_failed:
        reason = "; ".join(_strip_dir(f.error, up.path) for f in report.files_failed)
        return UploadResult(name, False, reason + _undo(up, settings, ingest), saved_as=up.path.name)
    up.commit()
    if up.status == "unchanged" or (report.files_unchanged and not (report.files_added or report.files_updated)):
        return UploadResult(name, True, f"{name}: already in the corpus (unchanged)", saved_as=up.path.name)
    n = report.chunks_added
    verb = "replaced the earlier version" if up.status == "replaced" else "added"
    added = f"{name}: {verb} ({n} chunk{'' if n == 1 else 's'})"
    if report.warnings:  # e.g. a guessed encoding or a scanned page too poor to read
        added += "; note: " + "; ".join(_strip_dir(w.warning, up.path) for w in report.warnings)
    return UploadResult(name, True, added, saved_as=up.path.name, chunks=n)


def _undo(up: StoredUpload, settings: Settings, ingest: Callable) -> str:
    """Put the earlier version back (file and store) after a failed replacement."""
    if not up.rollback():
        return ""
    try:
        ingest([up.path], settings, progress=False)
    except Exception:  # the store refuses now too: the file is back, the next ingest takes it
        return "; the earlier version's file is kept"
    return "; the earlier version is kept"


def _sidecar(up: StoredUpload, settings: Settings, ingest: Callable) -> UploadResult:
    """A metadata sidecar: saved, and its document re-read when that was uploaded already."""
    up.commit()
    doc = up.path.with_name(up.path.name[: -len(SIDECAR)])
    docs = [doc] if doc.is_file() else []
    if not docs:
        return UploadResult(up.name, True, f"{up.name}: metadata saved; it applies when {doc.name} is uploaded", saved_as=up.path.name)
    try:
        report = ingest(docs, settings, progress=False)
    except Exception as e:
        return UploadResult(up.name, False, f"{up.name}: metadata saved, but {docs[0].name} was not re-read: {e}", saved_as=up.path.name)
    if report.files_failed:
        reason = "; ".join(_strip_dir(f.error, up.path) for f in report.files_failed)
        return UploadResult(up.name, False, f"{up.name}: metadata saved, but {reason}", saved_as=up.path.name)
    return UploadResult(up.name, True, f"{up.name}: metadata applied to {docs[0].name}", saved_as=up.path.name)


def _strip_dir(message: str, path: Path) -> str:
    """Error messages name the file, not the server's folders."""
    return str(message).replace(str(path.parent) + os.sep, "")
