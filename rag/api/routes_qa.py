"""/v1/ask, /v1/ask/stream, /v1/health, /v1/documents: thin wrappers over the Assistant."""

from __future__ import annotations

import contextlib
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse

from rag.api.deps import check_history, check_question, model_name, qa_of, settings_of
from rag.api.errors import COMMON_ERRORS, ApiError, error_body, responses
from rag.api.limits import check_history_total
from rag.api.schemas import AskRequest, DocumentList, Health, HealthDown
from rag.api.sse import event_schema, event_stream, frame
from rag.api.work import ThreadedStream, run_work
from rag.embedding import ModelNotFound
from rag.models import Answer
from rag.store import StoreError

log = logging.getLogger("rag.api")
router = APIRouter(prefix="/v1")
open_router = APIRouter(prefix="/v1")  # routes that need no API key

STREAM_DOC = """Server-sent events, in order: one `retrieval` event (`data`: {type, query, passages}),
`token` events (`data`: {type, text}) and a final `answer` event (`data`: {type, answer}; the answer
is the same object /v1/ask returns). A failure after the stream has started is sent as an `error`
event (`data`: {"error": {message, type}}) and ends the stream."""


def model_unavailable(e: ModelNotFound) -> ApiError:
    """503 for a missing embedding model, naming it as /v1/health does: never the server's full path,
    nor a loader's message (which may hold paths); the server log has those."""
    why = "" if not e.reason or e.reason.startswith("loading failed") else f" ({e.reason})"
    return ApiError(
        503,
        f"embedding model not found at {model_name(e.path)}{why} on the server; "
        "set CADRES_EMBEDDING_MODEL to a sentence-transformers folder",
        type="model_unavailable",
    )


@contextlib.contextmanager
def model_errors():
    try:
        yield
    except ModelNotFound as e:
        raise model_unavailable(e) from None


@router.post(
    "/ask",
    response_model=Answer,
    summary="Answer a question with numbered citations",
    responses=responses(*COMMON_ERRORS),
    tags=["questions"],
)
async def ask(body: AskRequest, request: Request) -> Answer:
    settings, qa = settings_of(request), qa_of(request)
    check_question(body.question, settings)
    history = check_history(body.history, settings)
    check_history_total(history, settings)
    with model_errors():
        return await run_work(
            qa.ask,
            body.question,
            history=history,
            k=body.k,
            filters=body.filters_dict(),
            timeout=settings.request_timeout,
            what="the answer",
        )


@router.post(
    "/ask/stream",
    summary="Answer a question as server-sent events",
    description=STREAM_DOC,
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "An event stream: retrieval, token..., answer.",
            "content": {
                "text/event-stream": {
                    "schema": event_schema(
                        ["retrieval", "token", "answer", "error"],
                        "One event; `data` is the JSON of a RetrievalEvent, TokenEvent, AnswerEvent or error.",
                    )
                }
            },
        },
        **responses(*COMMON_ERRORS),
    },
    tags=["questions"],
)
async def ask_stream(body: AskRequest, request: Request) -> EventSourceResponse:
    settings, qa = settings_of(request), qa_of(request)
    check_question(body.question, settings)
    history = check_history(body.history, settings)
    check_history_total(history, settings)
    stream = ThreadedStream(
        lambda: qa.stream(body.question, history=history, k=body.k, filters=body.filters_dict()),
        timeout=settings.request_timeout,
        what="the answer",
    )
    try:
        with model_errors():
            first = await stream.next()  # errors before the first event still get a status code
    except StopAsyncIteration:
        raise ApiError(500, "the answer stream ended without an answer") from None
    except BaseException:
        await stream.aclose()
        raise

    async def events():
        try:
            yield frame(first, event=first.type)
            async for ev in stream:
                yield frame(ev, event=ev.type)
        except ApiError as e:
            yield frame(error_body(e.status, e.message, field=e.field, type=e.type), event="error")
        except StoreError as e:  # e.g. StoreBusy mid-stream: the store's own message, as a 503
            yield frame(error_body(503, str(e)), event="error")
        except Exception as e:
            log.exception("answer stream failed")
            yield frame(error_body(500, f"internal error ({type(e).__name__})"), event="error")
        finally:
            await stream.aclose()

    return event_stream(events())


@open_router.get(
    "/health",
    response_model=Health,
    summary="Store reachable? Documents and chunks counted (no API key needed)",
    responses={
        503: {"model": HealthDown, "description": "The store is unreachable."},
        500: responses(500)[500],
    },
    tags=["service"],
)
async def health(request: Request):
    settings, qa = settings_of(request), qa_of(request)
    try:
        st = await run_work(
            qa.status, timeout=min(settings.request_timeout, 30.0), what="the health check"
        )
    except Exception as e:
        if isinstance(e, ModelNotFound):
            e = model_unavailable(e)
        msg = e.message if isinstance(e, ApiError) else str(e) or type(e).__name__
        if not isinstance(e, ApiError):
            log.warning("health check failed: %s: %s", type(e).__name__, e)
        return JSONResponse(
            {"status": "unavailable", **error_body(503, f"store unavailable: {msg}")},
            status_code=503,
        )
    store_settings = qa.settings
    return Health(
        status="ok" if st.get("chunks") else "empty",
        documents=int(st.get("documents") or 0),
        chunks=int(st.get("chunks") or 0),
        last_ingest=st.get("last_ingest"),
        embedding_model=model_name(str(st.get("embedding_model") or "")),
        embedding_fingerprint=st.get("embedding_fingerprint"),
        answer_mode=str(st.get("answer_mode") or "extractive"),
        store="server" if store_settings.chroma_url else "embedded",
        warm=request.app.state.warmed.is_set(),
    )


@router.get(
    "/documents",
    response_model=DocumentList,
    summary="The ingested documents with their bibliographic records",
    responses=responses(401, 429, 500, 503, 504),
    tags=["corpus"],
)
async def documents(request: Request) -> DocumentList:
    settings, qa = settings_of(request), qa_of(request)
    with model_errors():
        docs = await run_work(qa.documents, timeout=settings.request_timeout, what="the document list")
    return DocumentList(count=len(docs), documents=docs)
