"""Answer-chain fixtures: the shared corpus store, and a scripted OpenAI-compatible server."""

from __future__ import annotations

import pytest

from .scripted_llm import ScriptedLLM

_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(scope="module")
def scripted_server():
    """One scripted server per module, with the env the product's ChatOpenAI reads."""
    with ScriptedLLM() as server, pytest.MonkeyPatch.context() as mp:
        mp.setenv("OPENAI_BASE_URL", server.base_url)
        mp.setenv("OPENAI_API_KEY", "test")
        for var in _PROXY_VARS:
            mp.delenv(var, raising=False)
        mp.setenv("NO_PROXY", "127.0.0.1,localhost")
        yield server


@pytest.fixture
def llm(scripted_server):
    """The module's server with a clean script and an empty request log for this test."""
    scripted_server.requests.clear()
    scripted_server.reply = lambda body: "NOT IN CORPUS"
    scripted_server.chunk_size = None
    scripted_server.status_for = lambda body: 200
    yield scripted_server
    scripted_server.requests.clear()


@pytest.fixture(scope="module")
def llm_assistant(scripted_server, corpus_settings):
    """An Assistant in LLM mode ("openai:scripted") over the shared corpus store."""
    from rag.assistant import Assistant

    qa = Assistant(corpus_settings.model_copy(update={"llm": "openai:scripted"}))
    assert qa.mode == "llm"
    qa.llm_answerer()  # builds ChatOpenAI now, while OPENAI_BASE_URL points at the server
    return qa
