"""Every route through FastAPI's TestClient, over the real corpus Assistant (extractive mode)."""

from __future__ import annotations

import json
import re

from api_testlib import QUESTION, assert_error, chat_stream_content, parse_sse

from rag.models import Answer

FOLLOW_UP = "And when were they released?"
OFF_CORPUS = "What is the boiling point of liquid nitrogen on Mars?"


def ask(client, question=QUESTION, **body) -> Answer:
    r = client.post("/v1/ask", json={"question": question, **body})
    assert r.status_code == 200, r.text
    return Answer.model_validate(r.json())


def test_ask_returns_the_answer_with_citations(client):
    r = client.post("/v1/ask", json={"question": QUESTION})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(Answer.model_fields) <= set(body)  # the same fields as the Python Answer
    ans = Answer.model_validate(body)
    assert not ans.refused
    assert "[1]" in ans.answer
    assert ans.citations and ans.citations[0].n == 1
    c = ans.citations[0]
    assert c.doc_id and c.chunk_id and c.title and c.quote
    assert ans.mode == "extractive"
    assert ans.question == QUESTION


def test_ask_matches_the_library(client, assistant):
    direct = assistant.ask(QUESTION)
    via_http = ask(client)
    assert via_http.answer == direct.answer
    assert [c.chunk_id for c in via_http.citations] == [c.chunk_id for c in direct.citations]


def test_ask_with_history_k_and_filters(client):
    ans = ask(client, FOLLOW_UP, history=[QUESTION], k=3)
    assert ans.query and ans.query.startswith(
        QUESTION
    )  # the follow-up took its topic from the history
    only = ask(client, filters={"doc_ids": ["king-muminov-2022"]})
    assert only.refused or {c.doc_id for c in only.citations} == {"king-muminov-2022"}
    none = ask(client, filters={"year_min": 1800, "year_max": 1801})
    assert none.refused and not none.citations


def test_off_corpus_question_is_refused(client):
    ans = ask(client, OFF_CORPUS)
    assert ans.refused and not ans.citations


def test_ask_stream_sends_retrieval_tokens_then_answer(client):
    with client.stream("POST", "/v1/ask/stream", json={"question": QUESTION}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    events = parse_sse(text)
    names = [e for e, _ in events]
    assert names[0] == "retrieval"
    assert names[-1] == "answer"
    assert names[1:-1] == ["token"]  # the extractive answer is composed whole: one token event
    datas = [json.loads(d) for _, d in events]
    assert all(d["type"] == n for d, n in zip(datas, names, strict=True))
    assert datas[0]["passages"] and datas[0]["query"]
    final = Answer.model_validate(datas[-1]["answer"])
    assert "[1]" in final.answer and final.citations
    assert "".join(d["text"] for d in datas[1:-1]) == final.answer


def test_ask_stream_bad_question_gets_a_status_not_a_stream(client):
    r = client.post("/v1/ask/stream", json={"question": "   "})
    assert_error(r, 422, field="question")


def test_chat_completion_plain(client):
    r = client.post(
        "/v1/chat/completions",
        json={"model": "cadres-qa", "messages": [{"role": "user", "content": QUESTION}]},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion" and body["model"] == "cadres-qa"
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant" and choice["finish_reason"] == "stop"
    content = choice["message"]["content"]
    answer_part, _, sources = content.partition("\n\nSources:\n")
    assert "[1]" in answer_part
    lines = sources.splitlines()
    assert len(lines) == len(body["citations"]) >= 1
    first = body["citations"][0]
    assert lines[0].startswith("[1] ") and first["title"] in lines[0]
    assert re.match(r"^\[1\] .+ (\d{4}|n\.d\.)(, p\. \d+)?\. .+", lines[0]), lines[0]
    assert body["refused"] is False
    assert body["usage"]["total_tokens"] > 0


def test_chat_completion_label_is_author_date(client):
    r = client.post(
        "/v1/chat/completions",
        json={"model": "cadres-qa", "messages": [{"role": "user", "content": QUESTION}]},
    )
    body = r.json()
    from rag.models import Citation

    for line, c in zip(
        body["choices"][0]["message"]["content"].split("Sources:\n")[1].splitlines(),
        body["citations"],
        strict=True,
    ):
        cit = Citation.model_validate(c)
        assert line.startswith(f"[{cit.n}] {cit.label}. ")


def test_chat_completion_stream_matches_plain(client):
    messages = [{"role": "user", "content": QUESTION}]
    plain = client.post(
        "/v1/chat/completions", json={"model": "cadres-qa", "messages": messages}
    ).json()
    with client.stream(
        "POST",
        "/v1/chat/completions",
        json={"model": "cadres-qa", "messages": messages, "stream": True},
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    content, chunks = chat_stream_content(text)
    assert content == plain["choices"][0]["message"]["content"]
    assert all(
        c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks
    )
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    last = chunks[-1]
    assert last["choices"][0]["finish_reason"] == "stop"
    assert last["citations"] == plain["citations"] and last["refused"] is False
    # Role, the extractive answer whole, its sources, the final chunk: no fake word pieces to reconcile.
    assert len(chunks) >= 3


def test_chat_stream_usage_chunk_when_asked(client):
    body = {
        "model": "cadres-qa",
        "messages": [{"role": "user", "content": QUESTION}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with client.stream("POST", "/v1/chat/completions", json=body) as r:
        _, chunks = chat_stream_content("".join(r.iter_text()))
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop" and "citations" in chunks[-2]


def test_chat_history_is_the_earlier_user_messages(client):
    messages = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": "Fushun, among others [1]."},
        {"role": "user", "content": [{"type": "text", "text": FOLLOW_UP}]},  # content parts
    ]
    chat = client.post(
        "/v1/chat/completions", json={"model": "cadres-qa", "messages": messages}
    ).json()
    direct = ask(client, FOLLOW_UP, history=[QUESTION])
    assert [c["chunk_id"] for c in chat["citations"]] == [c.chunk_id for c in direct.citations]
    assert chat["choices"][0]["message"]["content"].startswith(direct.answer)


def test_chat_refusal_has_no_sources(client):
    r = client.post(
        "/v1/chat/completions",
        json={"model": "cadres-qa", "messages": [{"role": "user", "content": OFF_CORPUS}]},
    )
    body = r.json()
    assert body["refused"] is True and body["citations"] == []
    assert "Sources:" not in body["choices"][0]["message"]["content"]


def test_chat_needs_a_user_message(client):
    r = client.post(
        "/v1/chat/completions",
        json={"model": "cadres-qa", "messages": [{"role": "system", "content": "hi"}]},
    )
    assert_error(r, 422, field="messages")


def test_models(client):
    r = client.get("/v1/models")
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "list" and [m["id"] for m in body["data"]] == ["cadres-qa"]
    assert client.get("/v1/models/cadres-qa").json()["id"] == "cadres-qa"
    assert_error(client.get("/v1/models/gpt-4"), 404)


def test_health(client, corpus_settings):
    r = client.get("/v1/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["documents"] >= 10 and body["chunks"] > 100
    assert body["answer_mode"] == "extractive" and body["store"] == "embedded"
    assert body["embedding_model"] and body["embedding_fingerprint"]
    assert str(corpus_settings.data_dir) not in r.text  # no server paths on the open route


def test_documents(client, assistant):
    r = client.get("/v1/documents")
    assert r.status_code == 200
    body = r.json()
    ids = {d["doc_id"] for d in body["documents"]}
    assert body["count"] == len(body["documents"]) == len(assistant.documents())
    assert "king-muminov-2022" in ids
    km = next(d for d in body["documents"] if d["doc_id"] == "king-muminov-2022")
    assert (
        km["year"] == 2022 and km["authors"] == ["Amy King", "Sherzod Muminov"] and km["chunks"] > 0
    )


def test_openapi_and_docs(client):
    schema = client.get("/openapi.json").json()
    for path in (
        "/v1/ask",
        "/v1/ask/stream",
        "/v1/chat/completions",
        "/v1/models",
        "/v1/health",
        "/v1/documents",
        "/v1/ingest",
    ):
        assert path in schema["paths"], path
    r = client.get("/docs")
    assert r.status_code == 200 and "swagger" in r.text.lower()
