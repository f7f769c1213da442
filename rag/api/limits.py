"""Pure ASGI middleware (streaming-safe): API key, per-client rate limit (counted by `limits`),
request body cap; and the caps on the conversation a question comes with (every message, and the
history in all)."""

from __future__ import annotations

import hashlib
import hmac
import math
import time

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.api.errors import ApiError, error_response

# Open without a key and never rate limited: the health probe and the API documentation.
PUBLIC_PATHS = frozenset(
    {"/v1/health", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
)
RATE_FREE_PATHS = PUBLIC_PATHS


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers") or ():
        if k.lower() == name:
            return v.decode("latin-1")
    return None


def presented_key(scope: Scope) -> str | None:
    """The key from `Authorization: Bearer KEY` or `X-API-Key: KEY`."""
    auth = _header(scope, b"authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    key = _header(scope, b"x-api-key")
    return key.strip() if key and key.strip() else None


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


# ---------------------------------------------------------------- rate limit
class RateLimiter:
    """`per_minute` requests per client in any sliding minute: the `limits` library's moving window
    over its in-memory storage (each worker and each replica keeps its own counts).

    Why not slowapi's middleware: it finds the route of a request by walking `app.routes`, and
    FastAPI 0.165 keeps included routers as `_IncludedRouter` entries there, so slowapi finds no
    route and exempts every request (tests/api/test_api_limits.py shows it). `limits` is the
    library slowapi counts with; the key check and the exempt paths stay in AccessMiddleware.
    """

    def __init__(self, rate: str):
        self.item = parse(rate)
        self._window = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, client: str) -> float:
        """Count one request; 0.0 when allowed, else the seconds until the window lets one in."""
        if self._window.hit(self.item, client):
            return 0.0
        reset = self._window.get_window_stats(self.item, client).reset_time
        return max(reset - time.time(), 0.001)


class AccessMiddleware:
    """API key (when configured) and the per-client rate limit, before any body is read.

    The client is the API key when a valid one is presented, else the client IP (behind a proxy,
    run uvicorn with --forwarded-allow-ips so the IP is the real client's). Requests with a wrong
    key are limited by IP, so guessing keys is rate limited too.
    """

    def __init__(self, app: ASGIApp, *, api_key: str | None, limiter: RateLimiter):
        self.app = app
        self.api_key = api_key
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        key = presented_key(scope)
        authorized = self.api_key is None or (
            key is not None and hmac.compare_digest(key.encode(), self.api_key.encode())
        )
        if path not in RATE_FREE_PATHS:
            if authorized and key is not None and self.api_key is not None:
                client = "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]
            else:
                client = "ip:" + client_ip(scope)
            wait = self.limiter.hit(client)
            if wait > 0:
                retry = max(1, math.ceil(wait))
                resp = error_response(
                    429,
                    f"rate limit exceeded: at most {self.limiter.item} per client "
                    f"(CADRES_RATE_LIMIT_PER_MINUTE); retry after {retry} s",
                    headers={"Retry-After": str(retry)},
                )
                await resp(scope, receive, send)
                return
        if not authorized and path not in PUBLIC_PATHS:
            msg = (
                "missing API key: send `Authorization: Bearer KEY` or `X-API-Key: KEY`"
                if key is None
                else "wrong API key"
            )
            resp = error_response(401, msg, headers={"WWW-Authenticate": "Bearer"})
            await resp(scope, receive, send)
            return
        await self.app(scope, receive, send)


# ---------------------------------------------------------------- body cap
class BodyTooLarge(HTTPException):
    """Raised from `receive` when the streamed body passes the cap (FastAPI re-raises HTTPExceptions)."""

    def __init__(self, limit: int):
        super().__init__(413, detail=_too_large(limit))


def _too_large(limit: int) -> str:
    return f"request body larger than the limit of {limit} bytes (CADRES_MAX_BODY_BYTES)"


class BodyLimitMiddleware:
    """413 when Content-Length says the body is over the cap, or when the streamed body passes it."""

    def __init__(self, app: ASGIApp, *, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                n = int(declared)
            except ValueError:
                await error_response(400, "Content-Length is not a number")(scope, receive, send)
                return
            if n > self.max_bytes:
                await error_response(413, _too_large(self.max_bytes))(scope, receive, send)
                return

        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            # Only reached when the route did not turn it into a response itself.
            if started:
                raise
            await error_response(413, _too_large(self.max_bytes))(scope, receive, send)


# ---------------------------------------------------------------- conversation caps (422)
# The body cap bounds bytes; these bound what one question drags along. User messages are read
# (the last is the question, earlier ones the history), so each is capped like a question and all
# the earlier ones together at HISTORY_QUESTIONS questions' worth. Other roles (a client's system
# prompt, earlier answers sent back) are never read, only skipped: each gets a looser fixed cap.
HISTORY_QUESTIONS = 10
OTHER_MESSAGE_CHARS = 32_000


def _too_long(field: str, n: int, cap: int, why: str) -> ApiError:
    return ApiError(422, f"{field}: longer than {cap} characters ({why}); got {n}", field=field)


def check_history_total(history: list[str] | None, settings, field: str = "history") -> None:
    """422 when the earlier questions together pass HISTORY_QUESTIONS x CADRES_MAX_QUESTION_CHARS."""
    cap = HISTORY_QUESTIONS * settings.max_question_chars
    total = sum(len(h) for h in history or [])
    if total > cap:
        raise _too_long(
            field, total, cap, f"all earlier turns together; {HISTORY_QUESTIONS} x CADRES_MAX_QUESTION_CHARS"
        )


def check_messages(messages: list[tuple[str, str]], settings) -> None:
    """(role, text) of every chat message, in order: 422 naming `messages[i].content` for a message
    over its cap, or `messages` when the earlier user messages together pass the history cap."""
    q = settings.max_question_chars
    other = max(q, OTHER_MESSAGE_CHARS)
    for i, (role, text) in enumerate(messages):
        if role == "user" and len(text) > q:
            raise _too_long(f"messages[{i}].content", len(text), q, "CADRES_MAX_QUESTION_CHARS")
        if role != "user" and len(text) > other:
            raise _too_long(f"messages[{i}].content", len(text), other, f"a {role!r} message")
    earlier = [t for r, t in messages if r == "user"][:-1]
    check_history_total(earlier, settings, field="messages")
