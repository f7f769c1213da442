"""OpenAI-compatible /v1/chat/completions and /v1/models over the same Assistant.

The last user message is the question; earlier user messages are the history. The reply content is
the answer with [n] markers, then a "Sources:" list; the structured citations and the refusal flag
ride along as extra fields (`citations`, `refused`) on the response and on the final stream chunk.
"""

from __future__ import annotations

import logging
import time
import uuid

from fastapi import APIRouter, Request
from sse_starlette import ServerSentEvent

from rag.api.deps import check_question, qa_of, settings_of
from rag.api.errors import COMMON_ERRORS, ApiError, error_body, responses
from rag.api.limits import check_messages
from rag.api.routes_qa import model_errors
from rag.api.schemas import (
    MODEL_ID,
    ChatChoice,
    ChatCompletion,
    ChatMessage,
    ChatRequest,
    ChatResponseMessage,
    ModelCard,
    ModelList,
    Usage,
)
from rag.api.sse import event_schema, event_stream, frame
from rag.api.work import ThreadedStream, run_work
from rag.models import Answer, Citation
from rag.store import StoreError

log = logging.getLogger("rag.api")
router = APIRouter(prefix="/v1")
STARTED = int(time.time())


# ---------------------------------------------------------------- formatting
def message_text(m: ChatMessage) -> str:
    if isinstance(m.content, str):
        return m.content
    if isinstance(m.content, list):
        return "".join(
            str(p.get("text", ""))
            for p in m.content
            if isinstance(p, dict) and p.get("type") in ("text", "input_text")
        )
    return ""


def question_and_history(messages: list[ChatMessage]) -> tuple[str, int, list[str]]:
    """(question, its message index, earlier user messages)."""
    users = [(i, message_text(m)) for i, m in enumerate(messages) if m.role == "user"]
    if not users:
        raise ApiError(
            422, "messages: needs at least one message with role 'user'", field="messages"
        )
    i, question = users[-1]
    history = [t for _, t in users[:-1] if t.strip()]
    return question, i, history


def source_line(c: Citation) -> str:
    title = (c.title or "").strip()
    line = f"[{c.n}] {c.label}."
    if title:
        line += f" {title}" + ("" if title[-1] in ".?!" else ".")
    return line


def sources_block(answer: Answer) -> str:
    if not answer.citations:
        return ""
    return "\n\nSources:\n" + "\n".join(source_line(c) for c in answer.citations)


def reply_content(answer: Answer) -> str:
    return answer.answer.strip() + sources_block(answer)


def _words(text: str) -> int:
    return len(text.split())


def usage(question: str, history: list[str], content: str) -> Usage:
    """Approximate counts (whitespace words): the service has no tokenizer of its own."""
    prompt = _words(question) + sum(_words(h) for h in history)
    completion = _words(content)
    return Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


# ---------------------------------------------------------------- routes
@router.get(
    "/models",
    response_model=ModelList,
    summary="The one model served",
    tags=["openai"],
    responses=responses(401, 429, 500),
)
async def list_models() -> ModelList:
    return ModelList(data=[ModelCard(created=STARTED)])


@router.get(
    "/models/{model_id}",
    response_model=ModelCard,
    summary="One model",
    tags=["openai"],
    responses=responses(401, 404, 429, 500),
)
async def get_model(model_id: str) -> ModelCard:
    if model_id != MODEL_ID:
        raise ApiError(
            404, f"model {model_id!r} not found; this server has {MODEL_ID!r}", field="model_id"
        )
    return ModelCard(created=STARTED)


CHAT_DOC = """OpenAI-compatible chat completion (use any OpenAI client with `base_url=.../v1`).

The last `user` message is the question, earlier `user` messages are the history (other roles are
ignored). `content` is the answer with [n] markers, then a `Sources:` list. Extra fields: `citations`
(structured, as in /v1/ask) and `refused`. Extensions accepted in the body: `k`, `filters`.
With `stream: true` the reply is `data: {chat.completion.chunk}` lines ending in `data: [DONE]`;
the last chunk before [DONE] (or before the usage chunk) carries `citations` and `refused`."""


@router.post(
    "/chat/completions",
    summary="OpenAI-compatible chat completion",
    description=CHAT_DOC,
    response_model=ChatCompletion,
    responses={
        200: {
            "description": "A chat.completion (JSON), or a chunk stream when `stream` is true.",
            "content": {
                "text/event-stream": {
                    "schema": event_schema(
                        None, "One chunk; `data` is a chat.completion.chunk as JSON, last `[DONE]`."
                    )
                }
            },
        },
        **responses(*COMMON_ERRORS),
    },
    tags=["openai"],
)
async def chat_completions(body: ChatRequest, request: Request):
    settings, qa = settings_of(request), qa_of(request)
    question, idx, history = question_and_history(body.messages)
    check_question(question, settings, field=f"messages[{idx}].content")
    check_messages([(m.role, message_text(m)) for m in body.messages], settings)
    filters = body.filters.model_dump(exclude_none=True) if body.filters else None
    cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    if not body.stream:
        with model_errors():
            answer = await run_work(
                qa.ask,
                question,
                history=history or None,
                k=body.k,
                filters=filters,
                timeout=settings.request_timeout,
                what="the answer",
            )
        content = reply_content(answer)
        return ChatCompletion(
            id=cid,
            choices=[ChatChoice(message=ChatResponseMessage(content=content))],
            usage=usage(question, history, content),
            citations=answer.citations,
            refused=answer.refused,
        )

    stream = ThreadedStream(
        lambda: qa.stream(question, history=history or None, k=body.k, filters=filters),
        timeout=settings.request_timeout,
        what="the answer",
    )
    try:
        with model_errors():
            first = await stream.next()
    except StopAsyncIteration:
        raise ApiError(500, "the answer stream ended without an answer") from None
    except BaseException:
        await stream.aclose()
        raise
    # Extractive token events are exactly the final text; an LLM's raw tokens can differ from the
    # checked answer (citations renumbered or removed), so those are held back and the checked text sent.
    live = qa.mode == "extractive"
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    created = int(time.time())

    def chunk(delta: dict, finish: str | None = None, **extra) -> ServerSentEvent:
        data = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            **extra,
        }
        return frame(data)

    async def chunks():
        try:
            yield chunk({"role": "assistant", "content": ""})
            sent: list[str] = []
            answer = None
            ev = first
            while True:
                kind = ev.type
                if kind == "token" and live and ev.text:
                    sent.append(ev.text)
                    yield chunk({"content": ev.text})
                elif kind == "answer":
                    answer = ev.answer
                try:
                    ev = await stream.next()
                except StopAsyncIteration:
                    break
            if answer is None:
                raise ApiError(500, "the answer stream ended without an answer")
            so_far, text = "".join(sent), answer.answer
            if so_far != text:
                if text.startswith(so_far):
                    rest = text[len(so_far) :]
                else:
                    log.warning(
                        "streamed tokens differ from the final answer; sending the final text"
                    )
                    rest = ("\n\n" if so_far else "") + text
                if rest:
                    yield chunk({"content": rest})
            block = sources_block(answer)
            if block:
                yield chunk({"content": block})
            yield chunk(
                {},
                finish="stop",
                citations=[c.model_dump(mode="json") for c in answer.citations],
                refused=answer.refused,
            )
            if include_usage:
                u = usage(question, history, reply_content(answer))
                yield frame(
                    {
                        "id": cid,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": MODEL_ID,
                        "choices": [],
                        "usage": u.model_dump(),
                    }
                )
        except ApiError as e:
            yield frame(error_body(e.status, e.message, field=e.field, type=e.type))
        except StoreError as e:  # e.g. StoreBusy mid-stream: the store's own message, as a 503
            yield frame(error_body(503, str(e)))
        except Exception as e:
            log.exception("chat stream failed")
            yield frame(error_body(500, f"internal error ({type(e).__name__})"))
        finally:
            await stream.aclose()
        yield frame("[DONE]")

    return event_stream(chunks())
