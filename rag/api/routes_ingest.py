"""POST /v1/ingest: JSON paths under the data dir, or uploaded files (only with an API key configured)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from ingest.uploads import StoredUpload, UploadRejected, ingest_stored, kind_of, store_upload
from rag.api.deps import settings_of, store_settings_of
from rag.api.errors import ApiError, responses
from rag.api.schemas import IngestOut, IngestPaths
from rag.api.work import run_work
from rag.models import FileFailure, IngestReport
from rag.settings import Settings

router = APIRouter(prefix="/v1")

MAX_UPLOADS = 100

INGEST_DOC = """Ingest documents into the store and return the IngestReport. Needs CADRES_API_KEY to be
configured (and sent); without one the route answers 403.

* `application/json` `{"paths": [...]}`: files or folders that resolve under CADRES_DATA_DIR
  (relative paths are taken from there); any other path is refused with 400 naming it.
  A folder is ingested as a whole: files gone from it are removed from the store.
* `multipart/form-data`: one or more files (any field name, e.g. `files`); types .txt .md .pdf
  .html .htm (and `FILE.meta.yaml` metadata sidecars for FILE), each at most CADRES_MAX_FILE_MB; they are saved
  with safe names under CADRES_DATA_DIR/uploads and ingested one by one. A file uploaded again under
  the same name replaces the earlier version; when the new version cannot be ingested,
  the earlier one is put back and kept. Refused files are listed in `files_failed`.

The whole request body is capped by CADRES_MAX_BODY_BYTES (413 past it); to ingest larger files,
copy them under the data dir and send their paths."""


def save_uploads(uploads: list[UploadFile], settings: Settings) -> tuple[list[StoredUpload], list[FileFailure]]:
    """Store each upload by the one policy (ingest.uploads), sidecars first so a document's
    metadata is in place when it is read; refused files become failures naming them."""
    stored: list[StoredUpload] = []
    failed: list[FileFailure] = []
    for up in sorted(uploads, key=lambda u: kind_of(u.filename) != "sidecar"):
        original = up.filename or "(unnamed)"
        try:
            stored.append(store_upload(original, up.file, settings.uploads_dir, settings.max_file_mb))
        except UploadRejected as e:
            failed.append(FileFailure(path=original, error=str(e)))
        except OSError as e:
            failed.append(FileFailure(path=original, error=f"{original}: could not be stored ({e.strerror or e})"))
    return stored, failed


def ingest_paths_of(paths: list[Path], settings: Settings) -> IngestReport:
    from ingest.pipeline import ingest_paths

    return ingest_paths(paths, settings, progress=False)


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
            stored, failed = await run_work(
                save_uploads,
                uploads,
                store,
                timeout=settings.request_timeout,
                what="saving the uploads",
            )
        finally:
            await form.close()
        if not stored:
            reasons = "; ".join(f.error for f in failed) or "nothing to ingest"
            raise ApiError(400, f"files: no file could be ingested: {reasons}", field="files")
        work, args = ingest_stored, (stored, store)
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
        work, args = ingest_paths_of, (resolve_paths(body.paths, store), store)
    else:
        raise ApiError(
            415,
            f'unsupported content type {ctype!r}: send JSON {{"paths": [...]}} or multipart/form-data files',
        )

    from ingest.pipeline import IngestFatal

    try:
        report: IngestReport = await run_work(
            work,
            *args,
            timeout=settings.request_timeout,
            what="the ingest (it goes on in the background; check /v1/documents)",
        )
    except IngestFatal as e:
        raise ApiError(503, str(e), type="ingest_failed") from None
    report.files_failed = [*failed, *report.files_failed]
    return IngestOut(**report.model_dump())
