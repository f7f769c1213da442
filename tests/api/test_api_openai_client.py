"""The official `openai` client against a live `cadres serve` (uvicorn, factory) on loopback."""

from __future__ import annotations

import pytest
from api_testlib import QUESTION, free_port_now, start_server, stop_server

openai = pytest.importorskip("openai")


@pytest.fixture(scope="module")
def live_server(corpus_settings, tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    server = start_server(free_port_now(), {"CADRES_DATA_DIR": corpus_settings.data_dir}, log)
    try:
        yield server
    finally:
        stop_server(server.proc)


@pytest.fixture(scope="module")
def oai(live_server):
    return openai.OpenAI(base_url=f"{live_server.url}/v1", api_key="x", max_retries=0, timeout=120)


def test_plain_completion(oai):
    r = oai.chat.completions.create(
        model="cadres-qa", messages=[{"role": "user", "content": QUESTION}]
    )
    content = r.choices[0].message.content
    assert "[1]" in content and "\nSources:\n[1] " in content
    assert r.choices[0].finish_reason == "stop" and r.model == "cadres-qa"
    extra = r.model_extra or {}
    assert extra["refused"] is False and extra["citations"][0]["n"] == 1
    assert r.usage.total_tokens > 0


def test_streaming_completion(oai):
    plain = oai.chat.completions.create(
        model="cadres-qa", messages=[{"role": "user", "content": QUESTION}]
    )
    parts, finals = [], []
    stream = oai.chat.completions.create(
        model="cadres-qa", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    for chunk in stream:
        delta = chunk.choices[0].delta if chunk.choices else None
        if delta and delta.content:
            parts.append(delta.content)
        if chunk.choices and chunk.choices[0].finish_reason:
            finals.append(chunk)
    content = "".join(parts)
    assert len(parts) >= 2  # the extractive answer whole, then its sources: no fake word pieces
    assert "[1]" in content and "Sources:" in content
    assert content == plain.choices[0].message.content
    assert len(finals) == 1 and (finals[0].model_extra or {})["citations"]


def test_follow_up_and_models(oai):
    r = oai.chat.completions.create(
        model="cadres-qa",
        messages=[
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": "..."},
            {"role": "user", "content": "And when were they released?"},
        ],
        extra_body={"k": 4},
    )
    assert r.choices[0].message.content
    assert [m.id for m in oai.models.list().data] == ["cadres-qa"]


def test_errors_reach_the_client_as_openai_errors(oai):
    with pytest.raises(openai.UnprocessableEntityError) as e:
        oai.chat.completions.create(model="cadres-qa", messages=[{"role": "user", "content": "  "}])
    assert "must not be empty" in str(e.value)


def test_bearer_key_with_the_openai_client(make_app):
    """In process (TestClient is an httpx.Client): the client's Bearer header is the API key."""
    from fastapi.testclient import TestClient

    http = TestClient(make_app(api_key="k-123"))
    good = openai.OpenAI(
        base_url="http://testserver/v1", api_key="k-123", http_client=http, max_retries=0
    )
    assert good.models.list().data[0].id == "cadres-qa"
    bad = openai.OpenAI(
        base_url="http://testserver/v1", api_key="wrong", http_client=http, max_retries=0
    )
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
