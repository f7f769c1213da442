"""Saved conversations in SQLite: per-browser lists, round trips of answers, rename, delete."""

from __future__ import annotations

import sqlite3

from rag.models import Answer, Citation
from ui.conversations import Conversation, Conversations, Message, new_id, title_for, valid_id


def _conv(title: str = "Who was tried at Khabarovsk?") -> Conversation:
    answer = Answer(
        question=title,
        answer="Twelve former officers were tried [1].",
        citations=[Citation(n=1, doc_id="d", chunk_id="d::00001", title="T", quote="Twelve former officers were tried.")],
    )
    return Conversation(
        id=new_id(),
        title=title_for(title),
        created=1.0,
        updated=1.0,
        generation="g1",
        model="m",
        settings={"top_k": 7, "doc_filter": ["d"]},
        messages=[
            Message(role="user", content=title, answered=True),
            Message(role="assistant", answer=answer, chunks={"d::00001": "Twelve former officers were tried."}),
        ],
    )


def test_round_trip_keeps_answers_settings_and_state(tmp_path):
    chats = Conversations(tmp_path)
    conv = _conv()
    chats.save("b1", conv)
    got = chats.get("b1", conv.id)
    assert got is not None
    assert got.messages[1].answer == conv.messages[1].answer
    assert got.settings == {"top_k": 7, "doc_filter": ["d"]}
    assert (got.generation, got.model) == ("g1", "m")
    assert (tmp_path / "ui" / "conversations.sqlite3").is_file()


def test_each_browser_sees_only_its_own_chats(tmp_path):
    chats = Conversations(tmp_path)
    mine, theirs = _conv("mine"), _conv("theirs")
    chats.save("b1", mine)
    chats.save("b2", theirs)
    assert [c.title for c in chats.list("b1")] == ["mine"]
    assert chats.get("b2", mine.id) is None
    # Another browser can neither overwrite, rename nor delete it.
    stolen = mine.model_copy(update={"title": "stolen"})
    chats.save("b2", stolen)
    assert chats.get("b1", mine.id).title == "mine"
    assert not chats.rename("b2", mine.id, "x") and not chats.delete("b2", mine.id)


def test_list_is_newest_first_and_rename_delete_work(tmp_path):
    chats = Conversations(tmp_path)
    a, b = _conv("first"), _conv("second")
    chats.save("b1", a)
    chats.save("b1", b)
    assert [c.title for c in chats.list("b1")] == ["second", "first"]
    assert chats.rename("b1", a.id, "  Renamed   chat ")
    assert chats.get("b1", a.id).title == "Renamed chat"
    assert not chats.rename("b1", a.id, "   ")
    assert chats.delete("b1", b.id)
    assert [c.id for c in chats.list("b1")] == [a.id]


def test_damaged_row_opens_empty_instead_of_failing(tmp_path):
    chats = Conversations(tmp_path)
    conv = _conv()
    chats.save("b1", conv)
    with sqlite3.connect(chats.path) as db:
        db.execute("UPDATE conversations SET messages = '{not json' WHERE id = ?", (conv.id,))
    got = chats.get("b1", conv.id)
    assert got is not None and got.messages == []


def test_ids_and_titles():
    assert valid_id(new_id()) and not valid_id("../../etc") and not valid_id(None)
    assert title_for("  a\n b ") == "a b"
    assert len(title_for("word " * 100)) == 80
