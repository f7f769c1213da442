"""Uploaded documents: checked on the server, stored under uploads_dir with safe names, ingested one by one.

Each saved file is ingested by its own path (never the uploads folder), so an upload can only add or
update that one document; nothing else in the store is pruned.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rag.settings import Settings

ALLOWED_EXTENSIONS = (".txt", ".md", ".pdf", ".html", ".htm")
MAX_NAME_CHARS = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class UploadRejected(ValueError):
    """An uploaded file that is not stored; the message is for the user."""


def safe_filename(name: str | None) -> str:
    """Basename only, ASCII [A-Za-z0-9._-], no leading dots, never empty, extension lower-cased."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    base = unicodedata.normalize("NFKD", base)
    base = "".join(c for c in base if not unicodedata.combining(c))
    stem, ext = os.path.splitext(base)  # ".hidden" is all stem, no extension
    ext = re.sub(r"[^a-z0-9]", "", ext.lower())
    stem = re.sub(r"_+", "_", _UNSAFE.sub("_", stem)).strip("._-")
    if not stem:
        stem = "upload"
    stem = stem[: MAX_NAME_CHARS - len(ext) - 1]
    return f"{stem}.{ext}" if ext else stem


def extension_of(name: str | None) -> str:
    base = re.split(r"[\\/]", str(name or ""))[-1].lower()
    return os.path.splitext(base)[1]


def check_upload(name: str | None, size: int, max_mb: float) -> None:
    """Raise UploadRejected when the type is not supported, the file is empty or too large."""
    shown = re.split(r"[\\/]", str(name or ""))[-1] or "(no name)"
    ext = extension_of(name)
    if ext not in ALLOWED_EXTENSIONS:
        allowed = " ".join(ALLOWED_EXTENSIONS)
        raise UploadRejected(f"{shown}: unsupported file type {ext or '(none)'!r}; allowed: {allowed}")
    if size <= 0:
        raise UploadRejected(f"{shown}: the file is empty")
    cap = int(max_mb * 1024 * 1024)
    if size > cap:
        raise UploadRejected(f"{shown}: {size / 1e6:.1f} MB is over the {max_mb:g} MB limit")


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def save_upload(name: str, data: bytes, uploads_dir: Path) -> tuple[Path, bool]:
    """Store `data` under uploads_dir with a safe name; returns (path, newly_written).

    An identical file already stored under that name is reused; a different one is never
    overwritten: the new file gets a numbered name instead.
    """
    root = Path(uploads_dir)
    root.mkdir(parents=True, exist_ok=True)
    root = root.resolve()
    safe = safe_filename(name)
    stem, ext = os.path.splitext(safe)
    digest = hashlib.sha256(data).hexdigest()
    for i in range(1, 1000):
        fname = safe if i == 1 else f"{stem}-{i}{ext}"
        candidate = root / fname
        if candidate.is_symlink():  # never write through a link, wherever it points
            continue
        if candidate.parent != root or fname in (".", "..") or not _inside(candidate.resolve(), root):
            raise UploadRejected(f"{name}: unsafe file name")
        try:
            with open(candidate, "xb") as fh:  # exclusive: never follows or replaces an existing file
                fh.write(data)
            return candidate, True
        except FileExistsError:
            try:
                if candidate.is_file() and hashlib.sha256(candidate.read_bytes()).hexdigest() == digest:
                    return candidate, False
            except OSError:
                pass
    raise UploadRejected(f"{name}: too many uploads with this name")


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
    files = list(files)
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
        check_upload(name, len(data or b""), settings.max_file_mb)
        path, fresh = save_upload(name, data, settings.uploads_dir)
    except UploadRejected as e:
        return UploadResult(name, False, str(e))
    except OSError as e:
        return UploadResult(name, False, f"{name}: could not be stored ({e.strerror or e})")
    try:
        report = ingest([path], settings, progress=False)
    except Exception as e:  # IngestFatal (lock, store) or anything unexpected: reported, not raised
        if fresh:
            path.unlink(missing_ok=True)
        return UploadResult(name, False, f"{name}: {e}", saved_as=path.name)
    if report.files_failed:
        if fresh:
            path.unlink(missing_ok=True)
        reason = "; ".join(_strip_dir(f.error, path) for f in report.files_failed)
        return UploadResult(name, False, reason, saved_as=path.name)
    if report.files_unchanged and not (report.files_added or report.files_updated):
        return UploadResult(name, True, f"{name}: already in the corpus (unchanged)", saved_as=path.name)
    added = f"{name}: added ({report.chunks_added} chunk{'' if report.chunks_added == 1 else 's'})"
    if report.warnings:  # e.g. a guessed encoding or a scanned page too poor to read
        added += "; note: " + "; ".join(_strip_dir(w.warning, path) for w in report.warnings)
    return UploadResult(name, True, added, saved_as=path.name, chunks=report.chunks_added)


def _strip_dir(message: str, path: Path) -> str:
    """Error messages name the file, not the server's folders."""
    return str(message).replace(str(path.parent) + os.sep, "")
