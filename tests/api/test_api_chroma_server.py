"""Ingest into a real `chroma run` server and ask through the API (the scale-out set-up)."""

from __future__ import annotations

import pytest
from api_testlib import assert_error
from fastapi.testclient import TestClient

DOCS = {
    "maizuru-port.md": """---
title: "Maizuru and the Returnee Ships"
author: "Sato, Hiroshi"
date: 1958
doc_id: maizuru-returnees
---
Maizuru was the main port for repatriation ships from Nakhodka. The ship Koan Maru carried 2,000
returnees from Nakhodka to Maizuru in December 1949. Families waited on the Taira pier for every ship.
""",
    "nakhodka-camp.md": """---
title: "The Nakhodka Transit Camp"
author: "Ono, Keiko"
date: 1962
doc_id: nakhodka-camp
---
The Nakhodka transit camp held Japanese prisoners before they boarded ships for Japan. Camp officers
held final political meetings there, and prisoners judged reactionary could be sent back inland.
""",
    "dalian-hospital.md": """---
title: "A Hospital in Dalian"
author: "Mori, Akira"
date: 1955
doc_id: dalian-hospital
---
The Dalian Japanese hospital kept its Japanese doctors until 1949. The doctors treated Soviet soldiers
and Chinese workers, and the last of them sailed from Dalian to Sasebo in the summer of 1949.
""",
}


@pytest.fixture(scope="module")
def server_store(chroma_server, tmp_path_factory):
    from ingest import ingest_paths
    from rag.settings import Settings
    from rag.store import forget_client

    root = tmp_path_factory.mktemp("chroma-api")
    docs = root / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    settings = Settings(
        data_dir=root / "data", chroma_url=chroma_server.url, corpus_dir=docs, collection="apitest"
    )
    report = ingest_paths([docs], settings, progress=False)
    assert not report.files_failed and report.files_added == 3
    yield settings
    forget_client(settings)


def test_ask_through_the_api_on_a_chroma_server(server_store):
    from rag import Assistant
    from rag.api.app import create_app

    c = TestClient(create_app(server_store, Assistant(server_store)))
    health = c.get("/v1/health").json()
    assert health["status"] == "ok" and health["store"] == "server" and health["documents"] == 3
    assert server_store.chroma_url not in str(health)

    r = c.post(
        "/v1/ask",
        json={"question": "Which ship carried returnees from Nakhodka to Maizuru in 1949?"},
    )
    assert r.status_code == 200, r.text
    ans = r.json()
    assert not ans["refused"], ans
    assert "[1]" in ans["answer"] and "Koan Maru" in ans["answer"]
    assert ans["citations"][0]["doc_id"] == "maizuru-returnees"

    r = c.post(
        "/v1/chat/completions",
        json={
            "model": "cadres-qa",
            "messages": [
                {
                    "role": "user",
                    "content": "When did the Japanese doctors leave the Dalian hospital?",
                }
            ],
        },
    )
    body = r.json()
    assert (
        "[1]" in body["choices"][0]["message"]["content"]
        and "Sources:\n[1] Mori 1955." in body["choices"][0]["message"]["content"]
    )
    assert {d["doc_id"] for d in c.get("/v1/documents").json()["documents"]} == {
        "maizuru-returnees",
        "nakhodka-camp",
        "dalian-hospital",
    }


def test_ingest_over_http_into_the_chroma_server(server_store):
    """A second replica (its own Assistant) sees a document another one ingested."""
    from rag import Assistant
    from rag.api.app import create_app

    keyed = server_store.model_copy(update={"api_key": __import__("pydantic").SecretStr("k")})
    writer = TestClient(create_app(keyed, Assistant(keyed)))
    reader = TestClient(create_app(server_store, Assistant(server_store)))
    assert (
        reader.post("/v1/ask", json={"question": "Who ran the Harbin bakery?"}).status_code == 200
    )  # warm
    r = writer.post(
        "/v1/ingest",
        files={
            "files": (
                "harbin-bakery.md",
                b"The Harbin bakery on Kitaiskaya street was run by Nomura Sei until 1950. "
                b"Nomura Sei baked rye bread for Soviet officers.",
                "text/markdown",
            )
        },
        headers={"Authorization": "Bearer k"},
    )
    assert r.status_code == 200 and r.json()["files_added"] == 1, r.text
    import time

    deadline = (
        time.monotonic() + 15
    )  # the reader's lexical index follows the generation stamp (2 s checks)
    while True:
        ans = reader.post(
            "/v1/ask", json={"question": "Who ran the Harbin bakery on Kitaiskaya street?"}
        ).json()
        if not ans["refused"] and ans["citations"][0]["doc_id"] == "harbin-bakery":
            break
        assert time.monotonic() < deadline, ans
        time.sleep(0.5)
    assert_error(reader.post("/v1/ingest", json={"paths": ["x"]}), 403)
