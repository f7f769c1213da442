"""The one upload policy, for the chat page and the HTTP API alike: accepted types, safe names, the
size cap, what an upload under a name already stored does, and metadata sidecars.

Why one module: the two front ends had drifted apart (one never replaced a file, cut names at 100
characters and refused `.markdown`; the other replaced, cut at 120 and took sidecars). The rules:

- Types are the loaders' own (`ingest.loaders.SUPPORTED`) plus `<file name>.meta.yaml` sidecars
  (`paper.pdf.meta.yaml` for `paper.pdf`, as `cadres ingest` reads them).
- A name becomes a plain ASCII file name (`[A-Za-z0-9._-]`, no folders, no leading dot, at most
  `MAX_NAME_CHARS`, the extension lower-cased), so a document and its sidecar keep matching stems.
- Empty files and files over `CADRES_MAX_FILE_MB` are refused before anything is written.
- An upload under a name already stored is the new version of that document: identical bytes
  change nothing; different bytes replace the file, and the earlier bytes are kept aside until
  the ingest has taken the new ones. When it does not, `rollback` puts the earlier version back,
  so a bad upload never costs the document it was meant to update.
- Nothing is written through a symbolic link or outside the uploads folder; writes are atomic.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from ingest.metadata import SIDECAR_SUFFIX as SIDECAR
from rag.models import IngestReport

MAX_NAME_CHARS = 120
COPY_BLOCK = 1 << 20
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def document_types() -> tuple[str, ...]:
    from ingest.loaders import SUPPORTED

    return tuple(sorted(SUPPORTED))


def accepted_note() -> str:
    return f"accepted: {' '.join(document_types())} (and FILE{SIDECAR} metadata sidecars)"


class UploadRejected(ValueError):
    """An upload that is not stored; the message names the file and the reason."""


def shown_name(name: str | None) -> str:
    return re.split(r"[\\/]", str(name or ""))[-1] or "(no name)"


def _safe_stem(stem: str) -> str:
    stem = unicodedata.normalize("NFKD", stem)
    stem = "".join(c for c in stem if not unicodedata.combining(c))
    stem = re.sub(r"_+", "_", _UNSAFE.sub("_", stem)).strip("._-")
    return stem or "upload"


def safe_filename(name: str | None) -> str:
    """Basename only, ASCII [A-Za-z0-9._-], no leading dots, never empty, extension lower-cased,
    at most MAX_NAME_CHARS (a sidecar: its document's safe name + `.meta.yaml`)."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    if base.lower().endswith(SIDECAR) and len(base) > len(SIDECAR):  # `<document file name>.meta.yaml`
        return safe_filename(base[: -len(SIDECAR)]) + SIDECAR  # so it matches the document's safe name
    stem, ext = os.path.splitext(base)  # ".hidden" is all stem, no extension
    ext = re.sub(r"[^a-z0-9]", "", ext.lower())
    ext = f".{ext}" if ext else ""
    return _safe_stem(stem)[: MAX_NAME_CHARS - len(ext)] + ext


def kind_of(name: str | None) -> Literal["document", "sidecar"] | None:
    low = shown_name(name).lower()
    if low.endswith(SIDECAR) and len(low) > len(SIDECAR):
        return "sidecar"
    if os.path.splitext(low)[1] in document_types():
        return "document"
    return None


def check_upload(name: str | None, size: int, max_mb: float) -> Literal["document", "sidecar"]:
    """The upload's kind; UploadRejected when its type is not accepted, it is empty or too large."""
    shown = shown_name(name)
    kind = kind_of(name)
    if kind is None:
        ext = os.path.splitext(shown.lower())[1]
        raise UploadRejected(f"{shown}: unsupported file type {ext or '(none)'!r}; {accepted_note()}")
    if size <= 0:
        raise UploadRejected(f"{shown}: the file is empty")
    if size > int(max_mb * 1024 * 1024):
        raise UploadRejected(f"{shown}: {size / 1e6:.1f} MB is over the {max_mb:g} MB limit (CADRES_MAX_FILE_MB)")
    return kind


@dataclass
class StoredUpload:
    name: str  # as the user gave it
    path: Path  # where it lies now
    kind: Literal["document", "sidecar"]
    status: Literal["new", "replaced", "unchanged"]
    _previous: Path | None = None  # the earlier bytes, kept aside until commit

    @property
    def document(self) -> Path | None:
        """For a sidecar, the document it describes (stored or not yet); None for a document."""
        return self.path.with_name(self.path.name[: -len(SIDECAR)]) if self.kind == "sidecar" else None

    def commit(self) -> None:
        """The ingest took the new version: drop the earlier bytes."""
        if self._previous is not None:
            self._previous.unlink(missing_ok=True)
            self._previous = None

    def rollback(self) -> bool:
        """The new version did not ingest: put the earlier file back (True), or remove a new one."""
        if self._previous is not None:
            os.replace(self._previous, self.path)
            self._previous = None
            return True
        if self.status == "new":
            self.path.unlink(missing_ok=True)
        return False


def store_upload(name: str | None, data: bytes | BinaryIO, uploads_dir: Path, max_mb: float) -> StoredUpload:
    """Check and store one upload under uploads_dir by the rules above. `data` is bytes or a
    binary file object (read in blocks, so a large upload is never held whole)."""
    root = Path(uploads_dir)
    root.mkdir(parents=True, exist_ok=True)
    root = root.resolve()
    shown = shown_name(name)
    kind = check_upload(name, len(data) if isinstance(data, bytes | bytearray) else 1, max_mb)
    safe = safe_filename(name)
    dest = root / safe
    if dest.parent != root or dest.is_symlink() or (dest.exists() and not dest.is_file()):
        raise UploadRejected(f"{shown}: unsafe file name")
    tmp = root / f".{safe}.{uuid.uuid4().hex[:8]}.part"
    digest = hashlib.sha256()
    size = 0
    cap = int(max_mb * 1024 * 1024)
    try:
        with open(tmp, "xb") as out:
            if isinstance(data, bytes | bytearray):
                blocks = [bytes(data)]
            else:
                data.seek(0)
                blocks = iter(lambda: data.read(COPY_BLOCK), b"")
            for block in blocks:
                size += len(block)
                if size > cap:
                    raise UploadRejected(f"{shown}: over the {max_mb:g} MB limit (CADRES_MAX_FILE_MB)")
                digest.update(block)
                out.write(block)
        if size == 0:
            raise UploadRejected(f"{shown}: the file is empty")
        os.chmod(tmp, 0o644)
        if dest.is_file() and _sha256(dest) == digest.hexdigest():
            return StoredUpload(shown, dest, kind, "unchanged")
        previous = None
        if dest.is_file():
            previous = root / f".{safe}.{uuid.uuid4().hex[:8]}.previous"
            os.replace(dest, previous)
        os.replace(tmp, dest)
        return StoredUpload(shown, dest, kind, "replaced" if previous else "new", previous)
    finally:
        tmp.unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(COPY_BLOCK), b""):
            h.update(block)
    return h.hexdigest()


def ingest_stored(stored: list[StoredUpload], settings, ingest=None) -> IngestReport:
    """Ingest stored uploads by their own paths (never the uploads folder, so nothing else is
    pruned), the one way both front ends do it.

    A sidecar re-reads its document when that is stored already. A replacement that fails gets its
    earlier version back, in the folder and in the store ("the earlier version is kept" is added to
    its failure), so a bad upload never costs the document it meant to update. When the ingest
    itself raises (a lock, an unreachable store), the files go back as they were and it re-raises.
    `ingest` defaults to `ingest.pipeline.ingest_paths` (imported here, when needed).
    """
    if ingest is None:
        from ingest.pipeline import ingest_paths as ingest
    docs = [s.path for s in stored if s.kind == "document"]
    docs += [s.document for s in stored if s.document is not None and s.document.is_file()]
    docs = list(dict.fromkeys(docs))
    try:
        report = ingest(docs, settings, progress=False) if docs else IngestReport()
    except BaseException:
        for s in stored:
            s.rollback()
        raise
    bad = {Path(f.path).name for f in report.files_failed}
    restored = []
    for s in stored:
        if s.kind == "document" and s.path.name in bad:
            if s.rollback():
                restored.append(s.path)
        else:
            s.commit()
    if restored:
        names = {p.name for p in restored}
        for f in report.files_failed:
            if Path(f.path).name in names:
                f.error += "; the earlier version is kept"
        # When the store refuses now too, the file is back and the next ingest takes it.
        with contextlib.suppress(Exception):
            report.warnings += ingest(restored, settings, progress=False).warnings
    return report
