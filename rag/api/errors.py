"""One error shape for every failure: {"error": {"message", "type", "field"?}}; never a traceback."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

# status -> error type (OpenAI-style names where one exists, so OpenAI clients map them sensibly)
ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limit_exceeded",
    500: "internal_error",
    503: "store_unavailable",
    504: "timeout",
}


class ErrorDetail(BaseModel):
    message: str = Field(..., description="What went wrong and, where possible, what to do.")
    type: str = Field(
        ..., description="Machine-readable kind, e.g. validation_error, rate_limit_exceeded."
    )
    field: str | None = Field(None, description="The request field at fault, when there is one.")


class ErrorResponse(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    """Raised anywhere in the API to answer with the JSON error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        field: str | None = None,
        type: str | None = None,  # noqa: A002 (mirrors the JSON key)
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.type = type or ERROR_TYPES.get(status, "error")
        self.headers = headers


def error_body(
    status: int, message: str, *, field: str | None = None, type: str | None = None
) -> dict:  # noqa: A002
    err: dict[str, Any] = {"message": message, "type": type or ERROR_TYPES.get(status, "error")}
    if field:
        err["field"] = field
    return {"error": err}


def error_response(
    status: int,
    message: str,
    *,
    field: str | None = None,
    type: str | None = None,  # noqa: A002
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(status, message, field=field, type=type), status_code=status, headers=headers
    )


_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w.\[\]]*):\s*(.+)$", re.S)


def split_field(message: str) -> tuple[str | None, str]:
    """Library errors name their field first ("question: must not be empty")."""
    m = _FIELD_PREFIX.match(message)
    return (m.group(1), message) if m else (None, message)


def _loc_to_field(loc: tuple | list) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += f".{p}" if out else str(p)
    return out or (str(loc[0]) if loc else "body")


def validation_message(errors: list[dict]) -> tuple[str | None, str]:
    """The first field at fault and a short message for all errors (inputs are never echoed)."""
    if not errors:
        return None, "invalid request"
    parts, first = [], None
    for e in errors[:5]:
        field = _loc_to_field(tuple(e.get("loc", ())))
        first = first or field
        msg = str(e.get("msg", "invalid"))
        if e.get("type") == "json_invalid":
            msg = f"request body is not valid JSON ({(e.get('ctx') or {}).get('error', 'decode error')})"
        parts.append(f"{field}: {msg}")
    if len(errors) > 5:
        parts.append(f"... and {len(errors) - 5} more")
    return first, "; ".join(parts)


def install_handlers(app: FastAPI) -> None:
    from rag.assistant import QuestionError
    from rag.store import StoreError

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return error_response(
            exc.status, exc.message, field=exc.field, type=exc.type, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        field, message = validation_message(list(exc.errors()))
        return error_response(422, message, field=field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        field = None
        if exc.status_code == 400 and detail == "There was an error parsing the body":
            detail, field = (
                "request body could not be parsed: send UTF-8 JSON (or multipart for /v1/ingest)",
                "body",
            )
        elif exc.status_code == 404 and detail == "Not Found":
            detail = f"no route for {request.method} {request.url.path}; see /docs"
        elif exc.status_code == 405 and detail == "Method Not Allowed":
            detail = f"{request.method} is not allowed on {request.url.path}; see /docs"
        return error_response(
            exc.status_code, detail, field=field, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(QuestionError)
    async def _question(request: Request, exc: QuestionError):
        field, message = split_field(str(exc))
        return error_response(422, message, field=field or "question")

    @app.exception_handler(StoreError)
    async def _store(request: Request, exc: StoreError):
        # StoreBusy (an ingest in another process is rewriting the embedded store) says when to retry.
        retry = getattr(exc, "retry_after", None)
        return error_response(503, str(exc), headers={"Retry-After": str(retry)} if retry else None)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):
        # Starlette re-raises after this response is sent, so the server log gets the traceback.
        return error_response(
            500, f"internal error ({type(exc).__name__}); the server log has the details"
        )


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the error statuses a route can return."""
    text = {
        400: "Bad request (the message names the problem).",
        401: "Missing or wrong API key (send `Authorization: Bearer KEY` or `X-API-Key: KEY`).",
        403: "Forbidden (e.g. ingest is disabled when no API key is configured).",
        413: "Request body over CADRES_MAX_BODY_BYTES.",
        422: "Invalid request; `error.field` names the field.",
        429: "Rate limit exceeded; see the Retry-After header.",
        500: "Internal error (no traceback is returned).",
        503: "The store is unreachable or missing (run `cadres ingest`), or busy with another "
        "process's ingest (see the Retry-After header).",
        504: "The work took longer than CADRES_REQUEST_TIMEOUT.",
    }
    out: dict[int | str, dict[str, Any]] = {}
    for s in statuses:
        entry: dict[str, Any] = {"model": ErrorResponse, "description": text.get(s, "Error.")}
        if s in (429, 503):
            entry["headers"] = {
                "Retry-After": {
                    "description": "Seconds to wait before retrying.",
                    "schema": {"type": "integer"},
                }
            }
        out[s] = entry
    return out


COMMON_ERRORS = (400, 401, 413, 422, 429, 500, 503, 504)  # routes with a JSON body
