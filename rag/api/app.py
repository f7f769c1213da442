"""The FastAPI app factory. Nothing is created at import: uvicorn calls `create_app` (factory=True).

uvicorn --factory rag.api.app:create_app        # or: cadres serve
"""

from __future__ import annotations

import contextlib
import logging
import threading

from fastapi import FastAPI, Security
from fastapi.security import APIKeyHeader, HTTPBearer

from rag.api import routes_ingest, routes_openai, routes_qa
from rag.api.errors import install_handlers
from rag.api.limits import AccessMiddleware, BodyLimitMiddleware, RateLimiter
from rag.api.protocol import AssistantService
from rag.settings import Settings

log = logging.getLogger("rag.api")

DESCRIPTION = """Cited answers over the cadres-qa corpus (Japanese in the USSR and China, 1945-1956).

* `POST /v1/ask` answers with numbered [n] citations; `POST /v1/ask/stream` streams the same as
  server-sent events.
* `POST /v1/chat/completions` and `GET /v1/models` speak the OpenAI protocol (model `cadres-qa`).
* `GET /v1/health` (always open), `GET /v1/documents`, `POST /v1/ingest` (needs an API key).

When CADRES_API_KEY is set, every route but /v1/health needs it, as `Authorization: Bearer KEY`
or `X-API-Key: KEY`. Errors are JSON: `{"error": {"message", "type", "field"?}}`. Limits:
CADRES_RATE_LIMIT_PER_MINUTE per client (429 + Retry-After), CADRES_MAX_BODY_BYTES (413),
CADRES_MAX_QUESTION_CHARS (422), CADRES_REQUEST_TIMEOUT (504)."""


def _warm(qa: AssistantService, done: threading.Event) -> None:
    """Load the embedding model and the lexical index before the first question (best effort)."""
    try:
        qa.warm_up()
        log.info("cadres-qa API warmed up")
    except Exception as e:  # a missing store is reported by /v1/health and by the routes
        log.warning("warm-up incomplete: %s: %s", type(e).__name__, e)
    finally:
        done.set()


def create_app(settings: Settings | None = None, assistant: AssistantService | None = None) -> FastAPI:
    """The API over one shared Assistant.

    `settings` gives the HTTP limits and the API key; `assistant` (injected by tests) does the work and
    its own settings name the store. Without an assistant, one is made from `settings` (or from the
    CADRES_* environment) and warmed up in the background at startup.
    """
    if settings is None:
        settings = assistant.settings if assistant is not None else Settings()
    warm = assistant is None
    if assistant is None:
        from rag.assistant import Assistant

        assistant = Assistant(settings)

    warmed = threading.Event()
    if not warm:
        warmed.set()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        if warm and not warmed.is_set():
            threading.Thread(
                target=_warm, args=(assistant, warmed), name="cadres-warm-up", daemon=True
            ).start()
        yield

    app = FastAPI(
        title="cadres-qa",
        version=_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "questions", "description": "Cited answers."},
            {"name": "openai", "description": "OpenAI-compatible endpoints."},
            {"name": "corpus", "description": "What is in the store, and adding to it."},
            {"name": "service", "description": "Health."},
        ],
    )
    app.state.settings = settings
    app.state.qa = assistant
    app.state.warmed = warmed
    install_handlers(app)

    key = settings.api_key.get_secret_value() if settings.api_key else None
    # The key itself is checked by AccessMiddleware; these only declare it in the OpenAPI schema.
    protected = (
        [
            Security(HTTPBearer(auto_error=False)),
            Security(APIKeyHeader(name="X-API-Key", auto_error=False)),
        ]
        if key
        else []
    )
    app.include_router(routes_qa.router, dependencies=protected)
    app.include_router(routes_openai.router, dependencies=protected)
    app.include_router(routes_ingest.router, dependencies=protected)
    app.include_router(routes_qa.open_router)  # /v1/health: no key needed

    # Added last = outermost: the key and the rate limit are checked before any body is read.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        AccessMiddleware, api_key=key, limiter=RateLimiter(f"{settings.rate_limit_per_minute}/minute")
    )
    return app


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("cadres-qa")
    except Exception:
        return "0"
