"""`cadres serve` on the embedded store while `cadres ingest` runs in another process.

Chroma's embedded client never sees another process's writes by itself (its HNSW index is loaded
once): before the fix every question touching new documents answered 500 "Error finding id" until
a restart. Here a few hundred questions go over HTTP while one ingest adds documents and a second
changes one; none may answer 5xx, and afterwards the new and the changed text are cited.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from api_testlib import clean_env, free_port_now, parse_sse, start_server, stop_server

CADRES = Path(sys.executable).parent / "cadres"
CLIENTS = 2
NEW_DOC = "tesmir-pit"
QUESTION_NEW = "Where did the Japanese prisoners at the Tesmir pit cut coal?"
QUESTIONS = [
    "Which ship carried returnees from Nakhodka to Maizuru in 1949?",
    "What did the Nakhodka transit camp hold?",
    QUESTION_NEW,
    "What did the prisoners of the Orvanek camp 7 build?",
]

BASE = {
    "maizuru.md": (
        "maizuru-returnees",
        "Maizuru and the Returnee Ships",
        "Maizuru was the main port for repatriation ships from Nakhodka. The ship Koan Maru carried "
        "2,000 returnees from Nakhodka to Maizuru in December 1949. Families waited on the Taira pier "
        "for every ship.",
    ),
    "nakhodka.md": (
        "nakhodka-camp",
        "The Nakhodka Transit Camp",
        "The Nakhodka transit camp held Japanese prisoners before they boarded ships for Japan. Camp "
        "officers held final political meetings there.",
    ),
}
TESMIR = (
    "Japanese prisoners at the Tesmir pit cut coal in the Karaganda basin of Kazakhstan from {year}. "
    "They worked in three shifts and were paid in bread coupons."
)


def _doc(doc_id: str, title: str, body: str) -> str:
    return (
        f'---\ntitle: "{title}"\nauthor: "Ono, Keiko"\ndate: 1962\ndoc_id: {doc_id}\n---\n{body}\n'
    )


def _filler(i: int) -> str:
    """A few chunks of prose, so the ingest writes for a while and questions land mid-run."""
    works = [
        "a railway embankment",
        "a timber mill",
        "a brick kiln",
        "a canal lock",
        "a power station",
    ]
    lines = [
        f"The Orvanek camp {i} held {300 + i} Japanese prisoners who built {works[i % len(works)]}.",
        *(
            f"In the winter of {1946 + j % 4} the prisoners of camp {i} worked shift {j} of the "
            f"building of {works[(i + j) % len(works)]} under a Soviet engineer named Petrov {j}."
            for j in range(8)
        ),
    ]
    return " ".join(lines)


def _write(docs: Path, name: str, doc_id: str, title: str, body: str) -> None:
    (docs / name).write_text(_doc(doc_id, title, body), encoding="utf-8")


def _ingest(env: dict) -> subprocess.Popen:
    cmd = [str(CADRES)] if CADRES.exists() else [sys.executable, "-m", "rag"]
    return subprocess.Popen(
        [*cmd, "ingest"],
        env=clean_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


# ---------------------------------------------------------------- the store's side, without a server
WRITER = """
import sys, chromadb
from chromadb.config import Settings
path, name, start, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
client = chromadb.PersistentClient(path=path, settings=Settings(anonymized_telemetry=False, allow_reset=False))
col = client.get_or_create_collection(name, embedding_function=None)
col.add(ids=[f"s{i}" for i in range(start, start + n)], embeddings=[[1.0, float(i), 0.5] for i in range(start, start + n)],
        documents=[f"sentence {i}" for i in range(start, start + n)], metadatas=[{"chunk_id": "c"} for _ in range(n)])
meta = dict(col.metadata or {})
meta["generation"] = f"other-{start}"
col.modify(metadata=meta)
"""


def _other_process_writes(settings, start: int, n: int) -> None:
    name = f"{settings.collection}-files"
    subprocess.run(
        [sys.executable, "-c", WRITER, str(settings.chroma_path), name, str(start), str(n)],
        env=clean_env(),
        check=True,
        timeout=120,
    )


def _resilient_store(make_settings):
    from rag.store import Store

    store = Store(make_settings(), "test-model")
    col = store.files()
    col.add(
        ids=["s0", "s1"],
        embeddings=[[1.0, 0.0, 0.5], [1.0, 1.0, 0.5]],
        documents=["a", "b"],
        metadatas=[{"chunk_id": "c"}, {"chunk_id": "c"}],
    )
    assert len(col.get(where={"chunk_id": "c"}, include=["embeddings"])["ids"]) == 2  # index loaded
    return store, col


def test_a_stale_embedded_client_is_reopened_on_error(make_settings):
    store, col = _resilient_store(make_settings)
    before = store.client
    _other_process_writes(store.settings, 2, 5)
    stale = before.get_collection(col.name)
    with pytest.raises(Exception, match="Error finding id"):
        stale.get(where={"chunk_id": "c"}, include=["embeddings"])  # what served 500s before
    got = col.get(where={"chunk_id": "c"}, include=["documents", "embeddings"])
    assert sorted(got["ids"]) == [f"s{i}" for i in range(7)]
    assert store.client is not before
    assert store.files().query(query_embeddings=[[1.0, 6.0, 0.5]], n_results=1)["ids"] == [
        ["s6"]
    ]


def test_rows_still_being_written_are_left_out_not_failed(make_settings, monkeypatch):
    import rag.store

    store, col = _resilient_store(make_settings)
    _other_process_writes(store.settings, 2, 3)
    monkeypatch.setattr(
        rag.store, "reopen_client", lambda *a, **k: None
    )  # as if reopened too early
    got = col.get(where={"chunk_id": "c"}, include=["documents", "metadatas", "embeddings"])
    assert sorted(got["ids"]) == ["s0", "s1"] and len(got["embeddings"]) == 2
    assert (
        len(col.get(where={"chunk_id": "c"}, include=["documents"])["ids"]) == 5
    )  # SQLite is current


def test_refresh_reopens_for_another_process_only(make_settings):
    from rag.store import Store

    store = Store(make_settings(), "test-model")
    assert not store.refresh("g1")  # first sight: the client was just opened
    assert not store.refresh("g1")
    first = store.client
    assert store.refresh("g2") and store.client is not first
    mine = store.bump_generation()
    assert not store.refresh(mine)  # an in-process ingest writes through this very client


def test_a_store_busy_error_is_a_503_with_retry_after():
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from rag.api.errors import install_handlers
    from rag.store import StoreBusy

    app = FastAPI()
    install_handlers(app)

    @app.get("/busy")
    def busy():
        raise StoreBusy(
            "the store is being changed by another process (an ingest); retry in a few seconds"
        )

    r = TestClient(app).get("/busy")
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    assert r.json()["error"]["type"] == "store_unavailable" and "Traceback" not in r.text


# ---------------------------------------------------------------- a live server and a real ingest
class Questioner:
    """Threads asking over HTTP (/v1/ask, /v1/ask/stream, /v1/chat/completions) until stopped."""

    def __init__(self, url: str):
        self.url = url
        self.status: collections.Counter = collections.Counter()
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(CLIENTS)
        ]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=120)

    @property
    def total(self) -> int:
        return sum(self.status.values())

    def _run(self, i: int) -> None:
        n = i
        while not self.stop.is_set():
            q = QUESTIONS[n % len(QUESTIONS)]
            route = ("/v1/ask", "/v1/ask/stream", "/v1/chat/completions")[n % 3]
            n += 1
            body = (
                {"model": "cadres-qa", "messages": [{"role": "user", "content": q}]}
                if route.endswith("completions")
                else {"question": q}
            )
            status, text = post(self.url + route, body)
            with self.lock:
                self.status[status] += 1
                if status >= 500 or status < 0:
                    self.failures.append(f"{route} {status}: {text[:300]}")
                elif route.endswith("stream") and any(ev == "error" for ev, _ in parse_sse(text)):
                    self.failures.append(f"{route} error event: {text[-300:]}")


def post(url: str, body: dict, timeout: float = 90) -> tuple[int, str]:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except OSError as e:
        return -1, f"{type(e).__name__}: {e}"


def ask(url: str, question: str) -> dict:
    status, text = post(url + "/v1/ask", {"question": question})
    assert status == 200, (status, text)
    return json.loads(text)


def cited(answer: dict) -> set[str]:
    return {c["doc_id"] for c in answer.get("citations", [])}


def wait_for(url: str, question: str, ok, seconds: float = 20.0) -> dict:
    """The answer to `question` once `ok(answer)`: readers notice an ingest within a few seconds."""
    deadline = time.monotonic() + seconds
    while True:
        answer = ask(url, question)
        if ok(answer):
            return answer
        assert time.monotonic() < deadline, answer
        time.sleep(0.5)


@pytest.mark.slow
def test_questions_across_an_external_ingest_never_fail(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, (doc_id, title, body) in BASE.items():
        _write(docs, name, doc_id, title, body)
    env = {
        "CADRES_DATA_DIR": tmp_path / "data",
        "CADRES_CORPUS_DIR": docs,
        "CADRES_RATE_LIMIT_PER_MINUTE": 1_000_000,
        "OMP_NUM_THREADS": 1,
    }
    first = _ingest(env)
    assert first.wait(timeout=180) == 0, first.stdout.read()

    server = start_server(free_port_now(), env, tmp_path / "serve.log")
    try:
        assert NEW_DOC not in cited(ask(server.url, QUESTION_NEW))
        with Questioner(server.url) as q:
            time.sleep(2)
            # The external ingest: a new document and enough others to keep it writing a while.
            _write(docs, "tesmir.md", NEW_DOC, "The Tesmir Pit", TESMIR.format(year=1946))
            for i in range(12):
                _write(docs, f"orvanek-{i}.md", f"orvanek-{i}", f"Orvanek Camp {i}", _filler(i))
            adding = _ingest(env)
            assert adding.wait(timeout=180) == 0, adding.stdout.read()
            added = wait_for(server.url, QUESTION_NEW, lambda a: NEW_DOC in cited(a))
            assert not added["refused"], added

            # A second ingest changes that document while the questions go on.
            _write(docs, "tesmir.md", NEW_DOC, "The Tesmir Pit", TESMIR.format(year=1947))
            changing = _ingest(env)
            assert changing.wait(timeout=180) == 0, changing.stdout.read()
            changed = wait_for(server.url, QUESTION_NEW, lambda a: "from 1947" in a["answer"])
            time.sleep(2)
        assert NEW_DOC in cited(changed) and "1946" not in changed["answer"], changed
        assert q.total >= 200, q.status
        assert not q.failures, (q.status, q.failures[:5])
        log = server.log.read_text()
        assert "Traceback" not in log, log[-3000:]
    finally:
        stop_server(server.proc)


class _BusyMidStream:
    """The real Assistant, except that its stream hits a busy store after the retrieval event."""

    def __init__(self, qa):
        self._qa = qa

    def __getattr__(self, name):
        return getattr(self._qa, name)

    def stream(self, question, **kw):
        from rag.store import StoreBusy

        for ev in self._qa.stream(question, **kw):
            yield ev
            raise StoreBusy("the store is being changed by another process; try again in a moment")


@pytest.mark.parametrize("route", ["/v1/ask/stream", "/v1/chat/completions"])
def test_store_busy_mid_stream_is_a_503_event_not_a_500(make_app, assistant, route):
    from fastapi.testclient import TestClient

    q = "How did the Soviet Union treat the Japanese internees?"
    body = {"question": q} if route == "/v1/ask/stream" else {"messages": [{"role": "user", "content": q}], "stream": True}
    with TestClient(make_app(qa=_BusyMidStream(assistant))) as c:
        r = c.post(route, json=body)
    assert r.status_code == 200
    errors = [json.loads(line[5:]) for line in r.text.splitlines() if line.startswith("data:") and '"error"' in line]
    assert errors, r.text
    err = errors[-1]["error"]
    assert err["type"] != "internal_error" and "another process" in err["message"], err
