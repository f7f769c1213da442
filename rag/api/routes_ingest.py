"""POST /v1/ingest: JSON paths under the data dir, or uploaded files (only with an API key configured)."""

from __future__ import annotations

import contextlib
import os
import re
import unicodedata
import uuid
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from rag.api.deps import settings_of, store_settings_of
from rag.api.errors import ApiError, responses
from rag.api.schemas import IngestOut, IngestPaths
from rag.api.work import run_work
from rag.models import FileFailure, IngestReport
from rag.settings import Settings

router = APIRouter(prefix="/v1")

# Same types as ingest (ingest.loaders.SUPPORTED, read lazily) plus metadata sidecars.
DEFAULT_TYPES = (".txt", ".md", ".markdown", ".pdf", ".html", ".htm")
SIDECAR = ".meta.yaml"
MAX_UPLOADS = 100
COPY_CHUNK = 1 << 20

INGEST_DOC = """Ingest documents into the store and return the IngestReport. Needs CADRES_API_KEY to be
configured (and sent); without one the route answers 403.

* `application/json` `{"paths": [...]}`: files or folders that resolve under CADRES_DATA_DIR
  (relative paths are taken from there); any other path is refused with 400 naming it.
  A folder is ingested as a whole: files gone from it are removed from the store.
* `multipart/form-data`: one or more files (any field name, e.g. `files`); types .txt .md .pdf
  .html .htm (and `NAME.meta.yaml` metadata sidecars), each at most CADRES_MAX_FILE_MB; they are saved
  with safe names under CADRES_DATA_DIR/uploads and ingested one by one. A file uploaded again under
  the same name replaces the earlier version. Refused files are listed in `files_failed`.

The whole request body is capped by CADRES_MAX_BODY_BYTES (413 past it); to ingest larger files,
copy them under the data dir and send their paths."""


def supported_types() -> tuple[str, ...]:
    try:
        from ingest.loaders import SUPPORTED

        return tuple(sorted(SUPPORTED))
    except Exception:  # pragma: no cover - the library moved it
        return DEFAULT_TYPES


def safe_name(filename: str | None) -> str:
    """A plain file name: no folders, no leading dots, ASCII letters, digits, `._-` only."""
    base = PurePosixPath((filename or "").replace("\\", "/")).name
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base)
    base = re.sub(r"_*\.+_*", ".", re.sub(r"_+", "_", base)).strip("._-")
    if not base:
        base = "upload"
    if len(base) > 120:
        sfx = "".join(PurePosixPath(base).suffixes)[-30:]
        base = base[: 120 - len(sfx)] + sfx
    return base


def _kind(name: str, types: tuple[str, ...]) -> str | None:
    low = name.lower()
    if low.endswith(SIDECAR):
        return "sidecar"
    if any(low.endswith(t) for t in types):
        return "document"
    return None


def _save(upload: UploadFile, dest: Path, cap: int) -> int | None:
    """Copy to dest atomically; None (and nothing written) when over the cap."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part")
    size = 0
    try:
        upload.file.seek(0)
        with open(tmp, "wb") as out:
            while True:
                block = upload.file.read(COPY_CHUNK)
                if not block:
                    break
                size += len(block)
                if size > cap:
                    return None
                out.write(block)
        os.replace(tmp, dest)
        return size
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def save_uploads(
    uploads: list[UploadFile], settings: Settings
) -> tuple[list[Path], list[FileFailure]]:
    types = supported_types()
    cap = int(settings.max_file_mb * 1024 * 1024)
    folder = settings.uploads_dir
    docs: list[Path] = []
    failed: list[FileFailure] = []
    # Sidecars first, so a document's metadata is in place when it is read.
    ordered = sorted(uploads, key=lambda u: _kind(safe_name(u.filename), types) != "sidecar")
    for up in ordered:
        original = up.filename or "(unnamed)"
        name = safe_name(up.filename)
        kind = _kind(name, types)
        if kind is None:
            failed.append(
                FileFailure(
                    path=original,
                    error=f"{original}: unsupported file type; accepted: {' '.join(types)} (and {SIDECAR} sidecars)",
                )
            )
            continue
        dest = folder / name
        if _save(up, dest, cap) is None:
            failed.append(
                FileFailure(
                    path=original,
                    error=f"{original}: over the size cap of {settings.max_file_mb:g} MB (CADRES_MAX_FILE_MB)",
                )
            )
            continue
        if kind == "document" and dest not in docs:
            docs.append(dest)
    return docs, failed


def _inside(path: Path, root: Path) -> bool:
    return path.is_relative_to(root)


def resolve_paths(raw: list[str], settings: Settings) -> list[Path]:
    root = settings.data_dir.resolve()
    private = [settings.chroma_path.resolve(), (settings.data_dir / "lexical").resolve()]
    out: list[Path] = []
    for i, p in enumerate(raw):
        field = f"paths[{i}]"
        if not p or "\x00" in p:
            raise ApiError(400, f"{field}: empty or invalid path", field=field)
        candidate = Path(p).expanduser() if p.startswith("~") else Path(p)
        if not candidate.is_absolute():
            candidate = settings.data_dir / candidate
        try:
            resolved = candidate.resolve()
        except (OSError, RuntimeError) as e:
            raise ApiError(400, f"{field}: cannot resolve {p!r} ({e})", field=field) from None
        if not _inside(resolved, root):
            raise ApiError(
                400,
                f"{field}: {p!r} is outside the data dir (CADRES_DATA_DIR); only paths under it can be ingested",
                field=field,
            )
        if any(_inside(resolved, d) or _inside(d, resolved) for d in private):
            raise ApiError(
                400,
                f"{field}: {p!r} is or holds the store's own files; name a documents folder instead",
                field=field,
            )
        out.append(resolved)
    return out


@router.post(
    "/ingest",
    response_model=IngestOut,
    summary="Ingest files under the data dir, or uploaded files (needs an API key)",
    description=INGEST_DOC,
    responses=responses(400, 401, 403, 413, 415, 422, 429, 500, 503, 504),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": IngestPaths.model_json_schema()},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "files": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                            }
                        },
                        "required": ["files"],
                    }
                },
            },
        }
    },
    tags=["corpus"],
)
async def ingest(request: Request) -> Any:
    settings = settings_of(request)
    if settings.api_key is None:
        raise ApiError(
            403,
            "ingest over HTTP is disabled because no API key is configured; set CADRES_API_KEY on the server "
            "(clients then send it as `Authorization: Bearer KEY` or `X-API-Key`), or run `cadres ingest`",
        )
    store = store_settings_of(request)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    failed: list[FileFailure] = []
    if ctype == "multipart/form-data":
        form = await request.form(max_files=MAX_UPLOADS, max_fields=MAX_UPLOADS)
        try:
            uploads = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
            if not uploads:
                raise ApiError(400, "files: no file in the multipart body", field="files")
            paths, failed = await run_work(
                save_uploads,
                uploads,
                store,
                timeout=settings.request_timeout,
                what="saving the uploads",
            )
        finally:
            await form.close()
        if not paths:
            reasons = "; ".join(f.error for f in failed) or "nothing to ingest"
            raise ApiError(400, f"files: no file could be ingested: {reasons}", field="files")
    elif ctype in ("application/json", "") or ctype.endswith("+json"):
        raw = await request.body()
        try:
            body = IngestPaths.model_validate_json(raw or b"{}")
        except ValidationError as e:
            raise RequestValidationError(
                [
                    {**err, "loc": ("body", *err.get("loc", ()))}
                    for err in e.errors(include_input=False)
                ]
            ) from None
        paths = resolve_paths(body.paths, store)
    else:
        raise ApiError(
            415,
            f'unsupported content type {ctype!r}: send JSON {{"paths": [...]}} or multipart/form-data files',
        )

    from ingest.pipeline import IngestFatal, ingest_paths

    try:
        report: IngestReport = await run_work(
            ingest_paths,
            paths,
            store,
            progress=False,
            timeout=settings.request_timeout,
            what="the ingest (it goes on in the background; check /v1/documents)",
        )
    except IngestFatal as e:
        raise ApiError(503, str(e), type="ingest_failed") from None
    report.files_failed = [*failed, *report.files_failed]
    return IngestOut(**report.model_dump())
