"""The Streamlit app driven through streamlit.testing (AppTest): one AppTest is one browser session."""

from __future__ import annotations

import re

import pytest
from uitestlib import APP, point_app_at

from rag.models import Answer

QUESTION = "How did the Soviet Union treat the Japanese internees?"
OFF_CORPUS = "Which team won baseball's 1956 Japan Series?"


def ask(at, question: str):
    at.chat_input(key="question").set_value(question).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def messages(at) -> list[dict]:
    return list(at.session_state["messages"])


def last_answer(at) -> Answer:
    a = messages(at)[-1].get("answer")
    assert a is not None, messages(at)[-1]
    return a


def unescape(md: str) -> str:
    return re.sub(r"\\(.)", r"\1", md)


def rendered(at) -> list[str]:
    """Every piece of Markdown the app handed to Streamlit (bodies and labels)."""
    out: list[str] = []
    for kind in ("markdown", "caption", "warning", "error", "success", "info"):
        out += [str(e.value) for e in getattr(at, kind)]
    out += [str(e.label) for e in at.expander]
    out += [str(b.label) for b in at.button]
    return out


def test_answer_shows_markers_and_sources(app_env, new_app):
    at = ask(new_app(), QUESTION)
    a = last_answer(at)
    assert not a.refused and a.citations
    bodies = [m.value for m in at.markdown]
    assert any("[**\\[1\\]**](#card-1-1)" in b for b in bodies), bodies
    labels = [unescape(e.label) for e in at.expander]
    assert any(lbl.startswith("[1] King and Muminov 2022") for lbl in labels), labels
    assert len(labels) == len(a.citations)
    # The chunk of each source is shown with its quoted sentence highlighted.
    assert sum(":orange-background[" in b for b in bodies) == len(a.citations)
    assert not at.warning and not at.error
    # The question is in the chat; the example buttons are gone.
    assert any(unescape(b) == QUESTION for b in bodies)
    assert not [b for b in at.button if (b.key or "").startswith("example_")]


def test_off_corpus_question_is_refused_visibly(app_env, new_app):
    at = ask(new_app(), OFF_CORPUS)
    a = last_answer(at)
    assert a.refused and not a.citations
    assert len(at.warning) == 1
    assert "does not answer" in at.warning[0].value
    assert not at.expander  # no source list for a refusal
    if a.closest_sources:
        assert any("Closest sources" in m.value for m in at.markdown)


def test_follow_up_passes_earlier_questions(app_env, new_app):
    at = ask(new_app(), QUESTION)
    at = ask(at, "And in China?")
    msgs = messages(at)
    assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant"]
    assert msgs[-1]["history"] == [QUESTION]
    a = last_answer(at)
    assert a.question == "And in China?"
    assert a.query and "Soviet" in a.query  # the retrieval query was built from the history
    assert any("follow-up" in c.value for c in at.caption)


def test_new_chat_clears_the_conversation(app_env, new_app):
    at = ask(new_app(), QUESTION)
    assert messages(at)
    at.button(key="new_chat").click().run()
    assert messages(at) == []
    assert not at.expander
    assert [b.key for b in at.button if (b.key or "").startswith("example_")]


def test_example_button_asks_its_question(app_env, new_app):
    at = new_app()
    examples = [b for b in at.button if (b.key or "").startswith("example_")]
    assert 3 <= len(examples) <= 4
    examples[0].click().run()
    assert not at.exception
    msgs = messages(at)
    assert msgs[0]["content"] == examples[0].label
    assert msgs[1].get("answer") is not None


def test_sessions_do_not_share_history(app_env, new_app):
    one, two = new_app(), new_app()
    ask(one, QUESTION)
    assert messages(two.run()) == []
    ask(two, OFF_CORPUS)
    assert [m["content"] for m in messages(one) if m["role"] == "user"] == [QUESTION]
    assert [m["content"] for m in messages(two) if m["role"] == "user"] == [OFF_CORPUS]
    assert messages(two)[-1]["history"] == []


def test_bad_question_is_a_friendly_error(app_env, new_app):
    at = ask(new_app(), "   ")
    assert at.error and "must not be empty" in unescape(at.error[0].value)
    assert not at.exception
    # The failed question is not passed on as history.
    at = ask(at, QUESTION)
    assert messages(at)[-1]["history"] == []


def test_document_filter_limits_sources(app_env, new_app):
    at = new_app()
    at.multiselect(key="doc_filter").set_value(["soviet-internment-labour"]).run()
    at = ask(at, "How many Japanese died in Soviet internment?")
    a = last_answer(at)
    assert messages(at)[-1]["filters"] == {"doc_ids": ["soviet-internment-labour"]}
    assert a.citations and {c.doc_id for c in a.citations} == {"soviet-internment-labour"}


def test_sidebar_shows_corpus_status_and_export(app_env, new_app, assistant):
    at = new_app()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Documents"] == str(assistant.status()["documents"])
    assert int(metrics["Chunks"]) > 100
    status_text = " ".join(c.value for c in at.sidebar.caption)
    assert "Last ingest" in status_text and "MiniLM" in status_text and "extractive" in status_text
    assert at.slider(key="top_k").value == app_env.top_k
    assert at.download_button(key="export").disabled
    at = ask(at, QUESTION)
    assert not at.download_button(key="export").disabled


def test_missing_store_is_a_friendly_error(monkeypatch, make_settings, new_app):
    point_app_at(monkeypatch, make_settings())  # an empty data dir: nothing ingested
    at = new_app()
    assert {m.label: m.value for m in at.metric}.get("Documents") == "0"
    at = ask(at, QUESTION)
    assert not at.exception
    errors = [unescape(e.value) for e in at.error]
    assert errors and "cadres ingest" in errors[-1], errors


# Plain prose (which the extractive answerer may quote) around markup (which it never quotes, but
# which stands in the chunk shown under a source, and in the title shown in every source label).
HOSTILE = """Japanese technicians in Harbin, 1945-1953

After the Soviet withdrawal from Manchuria in 1946, several thousand Japanese technicians remained in Harbin. The Chinese Communist Party kept the Japanese technicians in Harbin because it needed engineers to run the railways, power stations and hospitals of the city.

<script>alert(1)</script>

![x](http://example.com/x.png)

[click me](http://example.com/evil) <img src=x onerror=alert(2)> www.example.com

The Japanese technicians in Harbin were paid in grain and were allowed to keep their families with them. The repatriation of the Japanese technicians from Harbin began in 1953, when the Chinese Red Cross agreed with Japanese civic groups to send them home by ship.

<b>Most of them</b> sailed from Tianjin to Maizuru. ![x](http://example.com/x.png) <script>alert(3)</script>
"""


@pytest.fixture
def hostile_store(make_settings, tmp_path):
    from ingest import ingest_paths

    docs = tmp_path / "docs"
    docs.mkdir()
    doc = docs / "harbin-technicians.txt"  # .txt: ingest keeps its text as written
    doc.write_text(HOSTILE, encoding="utf-8")
    (docs / "harbin-technicians.txt.meta.yaml").write_text(
        "doc_id: harbin-technicians\n"
        "title: 'Harbin notes <script>alert(4)</script> ![x](http://example.com/x.png)'\n"
        "authors: ['Quux Zedlander']\nyear: 2024\ncontainer: '<i>Hostile</i> [Press](http://example.com)'\n",
        encoding="utf-8",
    )
    settings = make_settings()
    report = ingest_paths([doc], settings, progress=False)
    assert report.files_added == 1, report
    return settings


def test_document_markup_is_rendered_inert(monkeypatch, hostile_store, new_app):
    point_app_at(monkeypatch, hostile_store)
    at = ask(new_app(), "Why did the Chinese Communist Party keep the Japanese technicians in Harbin?")
    a = last_answer(at)
    assert not a.refused and a.citations, a
    texts = rendered(at)
    joined = "\n".join(texts)
    # The hostile text did reach the page (escaped) ...
    assert "\\<script\\>" in joined and "\\!\\[x\\]\\(" in joined
    # ... but never as a raw tag, an active image, link or autolink.
    for t in texts:
        assert not re.search(r"(?<!\\)<\s*(script|img|b|i)\b", t, re.I), t
        assert "![x](" not in t, t
        assert "](http" not in t, t
        assert "http://" not in t, t  # the escaped colon breaks GFM autolinks
        assert "www.example" not in t, t


def test_filters_and_uploader_present(app_env, new_app):
    at = new_app()
    ms = at.multiselect(key="doc_filter")
    assert "king-muminov-2022" in ms.options or any("Japan Still Has Cadres" in o for o in ms.options)
    assert at.slider(key="year_range").value == (2022, 2026)


def test_interrupted_question_can_be_asked_again(app_env, new_app):
    at = new_app()
    # A run cut short (the page was used while answering) leaves a question without an answer.
    at.session_state["messages"] = [{"role": "user", "content": QUESTION, "answered": False}]
    at.run()
    assert any("interrupted" in c.value for c in at.caption)
    at.button(key="retry_0").click().run()
    assert not at.exception
    msgs = messages(at)
    assert [m["role"] for m in msgs] == ["user", "assistant"] and msgs[1].get("answer") is not None
    assert not [b for b in at.button if (b.key or "").startswith("retry_")]


def _reopen(browser: str, conv: str | None = None):
    """A new session of the page at ?b=browser&c=conv, as a reload or a second tab would be."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=180)
    at.query_params["b"] = browser
    if conv:
        at.query_params["c"] = conv
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_saved_chat_and_filters_survive_a_reload(app_env, new_app):
    at = new_app()
    browser = at.query_params["b"]
    at.multiselect(key="doc_filter").set_value(["king-muminov-2022"]).run()
    at = ask(at, QUESTION)
    conv = at.query_params["c"]
    before = last_answer(at)

    again = _reopen(browser, conv)

    assert [m["content"] for m in messages(again) if m["role"] == "user"] == [QUESTION]
    assert last_answer(again) == before
    assert again.multiselect(key="doc_filter").value == ["king-muminov-2022"]
    assert again.expander, "the saved answer's source cards are drawn again"
    titles = [b.label for b in again.button if (b.key or "").startswith("chat-")]
    assert len(titles) == 1 and titles[0].startswith(QUESTION[:40])


def test_another_browser_never_sees_the_chats(app_env, new_app):
    at = ask(new_app(), QUESTION)
    conv = at.query_params["c"]
    other = _reopen("f" * 32, conv)  # knows the chat id, not the browser id
    assert messages(other) == []
    assert not [b for b in other.button if (b.key or "").startswith("chat-")]


def test_reopened_chat_after_a_reingest_says_answers_may_differ(app_env, new_app):
    from rag.settings import Settings
    from ui.conversations import Conversations

    at = ask(new_app(), QUESTION)
    browser, conv = at.query_params["b"], at.query_params["c"]
    chats = Conversations(Settings().data_dir)
    saved = chats.get(browser, conv)
    saved.generation = "an-older-generation"
    chats.save(browser, saved)

    again = _reopen(browser, conv)
    assert any("answers may differ" in i.value for i in again.info)
    fresh = _reopen(browser)
    assert not fresh.info


def test_rename_and_delete_a_chat(app_env, new_app):
    at = ask(new_app(), QUESTION)
    at.text_input(key="rename_title").set_value("Soviet treatment").run()
    at.button(key="rename").click().run()
    assert [b.label for b in at.button if (b.key or "").startswith("chat-")][0].startswith("Soviet treatment")
    at.button(key="delete_chat").click().run()
    assert messages(at) == []
    assert not [b for b in at.button if (b.key or "").startswith("chat-")]


def test_answer_markers_link_to_their_cards_and_cards_keep_state(app_env, new_app):
    at = ask(new_app(), QUESTION)
    a = last_answer(at)
    body = next(m.value for m in at.markdown if "#card-" in m.value)
    for c in a.citations:
        assert f"(#card-1-{c.n})" in body
    assert {e.key for e in at.expander} >= {f"card-1-{c.n}" for c in a.citations}
    at.session_state["card-1-1"] = True  # opened by the reader
    at = ask(at, OFF_CORPUS)
    assert at.session_state["card-1-1"] is True


def test_filter_labels_are_full_and_unescaped(app_env, new_app):
    at = new_app()
    ms = at.multiselect(key="doc_filter")
    labels = [ms.format_func(o) if hasattr(ms, "format_func") else o for o in ms.options]
    assert labels and all("\\" not in lbl for lbl in labels), labels
    assert any(len(lbl) > 40 for lbl in labels), labels


def test_cards_carry_the_full_reference_with_volume_issue_and_pages(app_env, new_app):
    at = ask(new_app(), QUESTION)
    a = last_answer(at)
    king = next(c for c in a.citations if c.doc_id.startswith("king-muminov"))
    assert (king.volume, king.issue, king.pages) == ("24", "3", "200–230")
    texts = [unescape(m.value) for m in at.markdown]
    assert any(
        t.startswith("King, Amy, and Sherzod Muminov. 2022. “Japan Still Has Cadres Remaining")
        and "Journal of Cold War Studies 24 (3): 200–230." in t
        for t in texts
    ), texts
    # The same reference is in the export.
    from ui.export import conversation_markdown

    assert "*Journal of Cold War Studies* 24 (3): 200–230." in conversation_markdown([a])
