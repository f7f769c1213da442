"""Limits and safety: body cap, question length, rate limit, API key, timeout, JSON errors."""

from __future__ import annotations

import threading
import time

import pytest
from api_testlib import QUESTION, assert_error
from fastapi.testclient import TestClient

from rag.api.limits import RateLimiter

CHAT = "/v1/chat/completions"


# ---------------------------------------------------------------- body cap (413)
def test_body_over_the_cap_by_content_length(make_app):
    c = TestClient(make_app(max_body_bytes=2048))
    r = c.post("/v1/ask", json={"question": "x" * 5000})
    err = assert_error(r, 413)
    assert "CADRES_MAX_BODY_BYTES" in err["message"] and "2048" in err["message"]


def test_body_over_the_cap_when_streamed_without_length(make_app):
    c = TestClient(make_app(max_body_bytes=2048))

    def chunks():  # chunked transfer encoding: no Content-Length to check up front
        yield b'{"question": "'
        for _ in range(10):
            yield b"y" * 500
        yield b'"}'

    r = c.post("/v1/ask", content=chunks(), headers={"Content-Type": "application/json"})
    err = assert_error(r, 413)
    assert "CADRES_MAX_BODY_BYTES" in err["message"]


def test_upload_over_the_body_cap(make_app, tmp_path):
    c = TestClient(make_app(max_body_bytes=4096, api_key="k"))
    r = c.post(
        "/v1/ingest",
        files={"files": ("big.md", b"z" * 10_000, "text/markdown")},
        headers={"X-API-Key": "k"},
    )
    assert_error(r, 413)


def test_small_body_passes(make_app):
    c = TestClient(make_app(max_body_bytes=2048))
    assert c.post("/v1/ask", json={"question": QUESTION}).status_code == 200


# ---------------------------------------------------------------- question checks (422)
def test_long_question_names_the_field(make_app):
    c = TestClient(make_app(max_question_chars=50))
    err = assert_error(c.post("/v1/ask", json={"question": "why " * 20}), 422, field="question")
    assert "50" in err["message"]
    err = assert_error(
        c.post(
            CHAT,
            json={"model": "cadres-qa", "messages": [{"role": "user", "content": "why " * 20}]},
        ),
        422,
        field="messages[0].content",
    )
    with c.stream("POST", "/v1/ask/stream", json={"question": "why " * 20}) as r:
        r.read()
        assert_error(r, 422, field="question")


@pytest.mark.parametrize("question", ["", "   \n\t"])
def test_empty_question_is_422(client, question):
    assert_error(client.post("/v1/ask", json={"question": question}), 422, field="question")
    assert_error(
        client.post(
            CHAT, json={"model": "cadres-qa", "messages": [{"role": "user", "content": question}]}
        ),
        422,
        field="messages[0].content",
    )


def test_validation_errors_are_json_naming_the_field(client):
    assert_error(client.post("/v1/ask", json={}), 422, field="question")
    assert_error(client.post("/v1/ask", json={"question": QUESTION, "k": 0}), 422, field="k")
    assert_error(
        client.post("/v1/ask", json={"question": QUESTION, "filters": {"year": 1}}),
        422,
        field="filters.year",
    )
    assert_error(client.post("/v1/ask", json={"question": 12}), 422, field="question")
    r = client.post(
        "/v1/ask", content=b'{"question": ', headers={"Content-Type": "application/json"}
    )
    err = assert_error(r, 422)
    assert "JSON" in err["message"]
    assert_error(
        client.post(CHAT, json={"model": "cadres-qa", "messages": []}), 422, field="messages"
    )


def test_unknown_route_and_method_are_json(client):
    assert_error(client.get("/v1/nope"), 404)
    r = client.get("/v1/ask")
    assert_error(r, 405)
    assert "POST" in r.headers.get("allow", "")


# ---------------------------------------------------------------- rate limit (429)
def test_rate_limit_gives_429_with_retry_after(make_app):
    c = TestClient(make_app(rate_limit_per_minute=3))
    for _ in range(3):
        assert c.get("/v1/models").status_code == 200
    r = c.get("/v1/models")
    err = assert_error(r, 429)
    assert "CADRES_RATE_LIMIT_PER_MINUTE" in err["message"]
    retry = int(r.headers["Retry-After"])
    assert 1 <= retry <= 60  # the oldest of the three leaves the one-minute window
    assert c.get("/v1/health").status_code == 200  # health is never limited
    assert_error(c.post("/v1/ask", json={"question": QUESTION}), 429)


def test_rate_limit_is_per_client(make_app):
    app = make_app(rate_limit_per_minute=1)
    a = TestClient(app, client=("10.0.0.1", 1234))
    b = TestClient(app, client=("10.0.0.2", 1234))
    assert a.get("/v1/models").status_code == 200
    assert a.get("/v1/models").status_code == 429
    assert b.get("/v1/models").status_code == 200  # another IP has its own budget


def test_rate_limit_by_api_key(make_app):
    app = make_app(rate_limit_per_minute=1, api_key="secret")
    a = TestClient(app, client=("10.0.0.1", 1))
    b = TestClient(app, client=("10.0.0.2", 2))
    assert a.get("/v1/models", headers={"X-API-Key": "secret"}).status_code == 200
    # the same key from another address shares the budget
    assert b.get("/v1/models", headers={"Authorization": "Bearer secret"}).status_code == 429


def test_the_budget_comes_back_after_the_window():
    """The moving window of `limits`, with a one-second window so the test can wait it out."""
    rl = RateLimiter("2/second")
    assert rl.hit("c") == 0 and rl.hit("c") == 0
    wait = rl.hit("c")
    assert 0 < wait <= 1.0
    assert rl.hit("other") == 0  # each client has its own window
    time.sleep(wait + 0.05)
    assert rl.hit("c") == 0


def test_why_not_slowapi_middleware(make_app):
    """Why RateLimiter counts with `limits` itself: slowapi's middleware looks a request's route up
    in `app.routes`, where this FastAPI keeps included routers wrapped, so it finds none and lets
    every request through. If this starts failing, slowapi can take over the limit."""
    from slowapi import Limiter
    from slowapi.middleware import SlowAPIASGIMiddleware
    from slowapi.util import get_remote_address

    app = make_app()
    app.state.limiter = Limiter(key_func=get_remote_address, application_limits=["1/minute"])
    app.add_middleware(SlowAPIASGIMiddleware)
    c = TestClient(app)
    assert [c.get("/v1/models").status_code for _ in range(3)] == [200, 200, 200]


# ---------------------------------------------------------------- API key (401)
def test_api_key_required_except_health(make_app):
    c = TestClient(make_app(api_key="s3cret"))
    for method, path, body in [
        ("GET", "/v1/models", None),
        ("GET", "/v1/documents", None),
        ("POST", "/v1/ask", {"question": QUESTION}),
        ("POST", "/v1/ask/stream", {"question": QUESTION}),
        ("POST", CHAT, {"model": "cadres-qa", "messages": [{"role": "user", "content": QUESTION}]}),
        ("POST", "/v1/ingest", {"paths": ["x"]}),
    ]:
        r = c.request(method, path, json=body)
        err = assert_error(r, 401)
        assert "API key" in err["message"]
        assert_error(
            c.request(method, path, json=body, headers={"Authorization": "Bearer wrong"}), 401
        )
    assert c.get("/v1/health").status_code == 200
    assert c.get("/v1/models", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert c.get("/v1/models", headers={"X-API-Key": "s3cret"}).status_code == 200
    r = c.post("/v1/ask", json={"question": QUESTION}, headers={"Authorization": "Bearer s3cret"})
    assert r.status_code == 200 and r.json()["citations"]
    # the key is declared in the OpenAPI schema for the protected routes, not for health
    schema = c.get("/openapi.json").json()
    assert schema["paths"]["/v1/ask"]["post"].get("security")
    assert not schema["paths"]["/v1/health"]["get"].get("security")


def test_unauthenticated_requests_are_checked_before_the_body(make_app):
    c = TestClient(make_app(api_key="k", max_body_bytes=2048))
    assert_error(c.post("/v1/ask", content=b"x" * 10_000), 401)


# ---------------------------------------------------------------- timeout (504), crash (500), store (503)
class SlowAssistant:
    """Stub for the timeout test only: every call sleeps well past the request timeout."""

    def __init__(self, settings, delay: float = 5.0):
        self.settings = settings
        self.delay = delay
        self.mode = "extractive"
        self.released = threading.Event()

    def ask(self, question, history=None, k=None, filters=None):
        time.sleep(self.delay)
        raise AssertionError("the request should have timed out")

    def stream(self, question, history=None, k=None, filters=None):
        time.sleep(self.delay)
        yield from ()

    def documents(self):
        time.sleep(self.delay)
        return []

    def status(self):
        time.sleep(self.delay)
        return {}


def test_timeout_gives_504_promptly(make_app, corpus_settings):
    slow = SlowAssistant(corpus_settings, delay=4.0)
    c = TestClient(make_app(slow, request_timeout=0.3))
    for method, path, body in [
        ("POST", "/v1/ask", {"question": QUESTION}),
        ("POST", "/v1/ask/stream", {"question": QUESTION}),
        ("POST", CHAT, {"model": "cadres-qa", "messages": [{"role": "user", "content": QUESTION}]}),
        (
            "POST",
            CHAT,
            {
                "model": "cadres-qa",
                "stream": True,
                "messages": [{"role": "user", "content": QUESTION}],
            },
        ),
        ("GET", "/v1/documents", None),
    ]:
        t0 = time.monotonic()
        r = c.request(method, path, json=body)
        elapsed = time.monotonic() - t0
        err = assert_error(r, 504)
        assert "CADRES_REQUEST_TIMEOUT" in err["message"], err
        assert elapsed < 3.0, f"{path} waited {elapsed:.1f} s for the abandoned work"
    r = c.get("/v1/health")  # a hung store is unhealthy
    assert r.status_code == 503 and r.json()["status"] == "unavailable"


def test_tiny_timeout_on_the_real_assistant(make_app):
    c = TestClient(make_app(request_timeout=0.001))
    assert_error(c.post("/v1/ask", json={"question": QUESTION + " (timeout probe)"}), 504)


class BrokenAssistant:
    settings = None
    mode = "extractive"

    def ask(self, *a, **k):
        raise RuntimeError("boom at /secret/path/file.py line 12")

    def stream(self, *a, **k):
        raise RuntimeError("boom")


def test_crash_is_json_500_without_traceback(make_app, corpus_settings):
    BrokenAssistant.settings = corpus_settings
    c = TestClient(make_app(BrokenAssistant()), raise_server_exceptions=False)
    err = assert_error(c.post("/v1/ask", json={"question": QUESTION}), 500)
    assert "RuntimeError" in err["message"] and "/secret/path" not in err["message"]
    assert_error(c.post("/v1/ask/stream", json={"question": QUESTION}), 500)


def test_missing_store_is_503(make_settings):
    from rag import Assistant
    from rag.api.app import create_app

    settings = make_settings()
    c = TestClient(create_app(settings, Assistant(settings)))
    err = assert_error(c.post("/v1/ask", json={"question": QUESTION}), 503)
    assert "cadres ingest" in err["message"]
    r = c.get("/v1/health")
    assert r.status_code == 200 and r.json()["status"] == "empty" and r.json()["chunks"] == 0


def test_unreachable_chroma_server_is_503(make_settings, free_port):
    from rag import Assistant
    from rag.api.app import create_app

    settings = make_settings(chroma_url=f"http://127.0.0.1:{free_port}")
    c = TestClient(create_app(settings, Assistant(settings)))
    r = c.get("/v1/health")
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["status"] == "unavailable" and "not reachable" in body["error"]["message"]
    assert_error(c.post("/v1/ask", json={"question": QUESTION}), 503)


# ---------------------------------------------------------------- k and the conversation (422)
@pytest.mark.parametrize("k", [0, 51, -3])
def test_k_out_of_range_is_422_naming_k_and_the_range(client, k):
    chat = {"model": "cadres-qa", "messages": [{"role": "user", "content": QUESTION}], "k": k}
    for path, body in (("/v1/ask", {"question": QUESTION, "k": k}), (CHAT, chat)):
        err = assert_error(client.post(path, json=body), 422, field="k")
        assert f"k: must be between 1 and 50 (passages to retrieve), got {k}" in err["message"]
    with client.stream("POST", "/v1/ask/stream", json={"question": QUESTION, "k": k}) as r:
        r.read()
        assert_error(r, 422, field="k")


@pytest.mark.parametrize("k", [0, 51, True, "5", 2.0])
def test_library_rejects_k_out_of_range_with_a_value_error(assistant, k):
    with pytest.raises(ValueError, match=r"^k: must be (between 1 and 50|a whole number from 1 to 50), got "):
        assistant.ask(QUESTION, k=k)
    with pytest.raises(ValueError, match=r"^k: "):
        assistant.retrieve(QUESTION, k=k)


def test_an_earlier_user_message_is_capped_like_the_last(make_app):
    """The issue's case: a 100k-character earlier message, under the body cap, with a short last one."""
    c = TestClient(make_app())
    msgs = [
        {"role": "user", "content": "x" * 100_000},
        {"role": "assistant", "content": "Fushun [1]."},
        {"role": "user", "content": QUESTION},
    ]
    err = assert_error(c.post(CHAT, json={"model": "cadres-qa", "messages": msgs}), 422, field="messages[0].content")
    assert err["message"] == (
        "messages[0].content: longer than 4000 characters (CADRES_MAX_QUESTION_CHARS); got 100000"
    )
    msgs[0] = {"role": "user", "content": [{"type": "text", "text": "x" * 5000}]}  # content parts count
    assert_error(c.post(CHAT, json={"model": "cadres-qa", "messages": msgs}), 422, field="messages[0].content")
    with c.stream("POST", CHAT, json={"model": "cadres-qa", "messages": msgs, "stream": True}) as r:
        r.read()
        assert_error(r, 422, field="messages[0].content")


def test_other_roles_have_a_looser_cap_but_a_cap(make_app):
    from rag.api.limits import OTHER_MESSAGE_CHARS

    c = TestClient(make_app(max_question_chars=200))
    sent_back = "Fushun and Taiyuan held the detainees [1]. " * 30  # an earlier answer: 1290 characters
    ok = [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": sent_back},
        {"role": "user", "content": "And when were they released?"},
    ]
    assert c.post(CHAT, json={"model": "cadres-qa", "messages": ok}).status_code == 200
    big = [{"role": "system", "content": "x" * (OTHER_MESSAGE_CHARS + 1)}, {"role": "user", "content": QUESTION}]
    err = assert_error(c.post(CHAT, json={"model": "cadres-qa", "messages": big}), 422, field="messages[0].content")
    assert f"longer than {OTHER_MESSAGE_CHARS} characters (a 'system' message)" in err["message"]


def test_the_history_in_all_is_capped(make_app):
    from rag.api.limits import HISTORY_QUESTIONS

    c = TestClient(make_app(max_question_chars=100))
    turns = [f"Where were Japanese war criminals detained in China, question {i:02d}?" + "." * 30 for i in range(12)]
    assert all(len(t) <= 100 for t in turns) and sum(map(len, turns)) > HISTORY_QUESTIONS * 100
    msgs = [{"role": "user", "content": t} for t in turns] + [{"role": "user", "content": QUESTION}]
    err = assert_error(c.post(CHAT, json={"model": "cadres-qa", "messages": msgs}), 422, field="messages")
    assert f"longer than {HISTORY_QUESTIONS * 100} characters" in err["message"]
    assert "CADRES_MAX_QUESTION_CHARS" in err["message"]
    err = assert_error(c.post("/v1/ask", json={"question": QUESTION, "history": turns}), 422, field="history")
    assert f"got {sum(map(len, turns))}" in err["message"]
    with c.stream("POST", "/v1/ask/stream", json={"question": QUESTION, "history": turns}) as r:
        r.read()
        assert_error(r, 422, field="history")
    assert c.post("/v1/ask", json={"question": QUESTION, "history": turns[:9]}).status_code == 200


# ---------------------------------------------------------------- a missing embedding model (503)
def test_missing_embedding_model_is_a_clear_503_without_the_server_path(make_settings, tmp_path):
    from rag import Assistant
    from rag.api.app import create_app

    missing = tmp_path / "models" / "no-such-model"
    settings = make_settings(embedding_model=str(missing))
    c = TestClient(create_app(settings, Assistant(settings)))
    chat = {"model": "cadres-qa", "messages": [{"role": "user", "content": QUESTION}]}
    for r in (
        c.post("/v1/ask", json={"question": QUESTION}),
        c.post(CHAT, json=chat),
        c.post(CHAT, json={**chat, "stream": True}),
        c.post("/v1/ask/stream", json={"question": QUESTION}),
        c.get("/v1/documents"),
    ):
        err = assert_error(r, 503)
        assert err["type"] == "model_unavailable", err
        assert err["message"].startswith("embedding model not found at models/no-such-model on the server")
        assert "CADRES_EMBEDDING_MODEL" in err["message"] and str(tmp_path) not in err["message"]
    r = c.get("/v1/health")
    assert r.status_code == 503 and "embedding model not found at models/no-such-model" in r.text
    assert str(tmp_path) not in r.text


def test_missing_embedding_model_is_logged_once_at_warm_up(make_settings, tmp_path, caplog):
    from rag.api.app import create_app

    missing = tmp_path / "no-such-model"
    with caplog.at_level("WARNING", logger="rag.api"), TestClient(
        create_app(make_settings(embedding_model=str(missing)))
    ) as c:
        assert c.app.state.warmed.wait(60)
    warm = [r for r in caplog.records if "warm-up" in r.getMessage()]
    assert len(warm) == 1 and warm[0].exc_info is None, [r.getMessage() for r in warm]
    assert f"embedding model not found at {missing}" in warm[0].getMessage()
