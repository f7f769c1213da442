"""Saved conversations: one small SQLite file under the data dir, each browser its own list.

A browser is known by an id kept in the page's URL (query parameter), so a reload keeps the chat and
another browser never sees it. The stdlib's sqlite3 is enough for a few hundred chats per person;
each call opens its own connection, so Streamlit's threads never share one.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from contextlib import closing
from pathlib import Path

from pydantic import BaseModel, Field

from rag.models import Answer

_ID = re.compile(r"^[0-9a-f]{32}$")
TITLE_CHARS = 80

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    browser TEXT NOT NULL,
    title TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    generation TEXT,
    model TEXT,
    settings TEXT NOT NULL DEFAULT '{}',
    messages TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS conversations_browser ON conversations (browser, updated);
"""


class Message(BaseModel):
    """One turn as the page shows it: a question, or an answer (or the error that replaced it)."""

    role: str
    content: str = ""
    answered: bool = False
    answer: Answer | None = None
    error: str | None = None
    chunks: dict[str, str] = Field(default_factory=dict)
    history: list[str] = Field(default_factory=list)
    filters: dict | None = None


class Conversation(BaseModel):
    id: str
    title: str
    created: float
    updated: float
    generation: str | None = None  # the store generation the last answer was given against
    model: str | None = None
    settings: dict = Field(default_factory=dict)  # the page's filters and top-k
    messages: list[Message] = Field(default_factory=list)


def new_id() -> str:
    return uuid.uuid4().hex


def valid_id(value: object) -> bool:
    return isinstance(value, str) and bool(_ID.match(value))


def title_for(question: str) -> str:
    t = " ".join(question.split())
    return t if len(t) <= TITLE_CHARS else t[: TITLE_CHARS - 1] + "\u2026"


class Conversations:
    """The chats of every browser, in `data_dir/ui/conversations.sqlite3`."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "ui" / "conversations.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        return db

    def list(self, browser: str) -> list[Conversation]:
        """This browser's chats, newest first, without their messages."""
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT id, title, created, updated, generation, model, settings FROM conversations "
                "WHERE browser = ? ORDER BY updated DESC",
                (browser,),
            ).fetchall()
        return [self._row(r, messages="[]") for r in rows]

    def get(self, browser: str, conv_id: str) -> Conversation | None:
        """The chat, only if it belongs to this browser."""
        with closing(self._connect()) as db:
            r = db.execute(
                "SELECT * FROM conversations WHERE id = ? AND browser = ?", (conv_id, browser)
            ).fetchone()
        return self._row(r, r["messages"]) if r else None

    def save(self, browser: str, conv: Conversation) -> None:
        """Insert or replace the chat (the browser id of an existing chat never changes)."""
        conv.updated = time.time()
        payload = json.dumps([m.model_dump(mode="json") for m in conv.messages])
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT INTO conversations (id, browser, title, created, updated, generation, model, settings, messages) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET title = excluded.title, "
                "updated = excluded.updated, generation = excluded.generation, model = excluded.model, "
                "settings = excluded.settings, messages = excluded.messages WHERE conversations.browser = excluded.browser",
                (
                    conv.id, browser, conv.title, conv.created, conv.updated, conv.generation, conv.model,
                    json.dumps(conv.settings), payload,
                ),
            )

    def rename(self, browser: str, conv_id: str, title: str) -> bool:
        title = title_for(title)
        if not title:
            return False
        with closing(self._connect()) as db, db:
            cur = db.execute(
                "UPDATE conversations SET title = ? WHERE id = ? AND browser = ?", (title, conv_id, browser)
            )
        return cur.rowcount == 1

    def delete(self, browser: str, conv_id: str) -> bool:
        with closing(self._connect()) as db, db:
            cur = db.execute("DELETE FROM conversations WHERE id = ? AND browser = ?", (conv_id, browser))
        return cur.rowcount == 1

    @staticmethod
    def _row(r: sqlite3.Row, messages: str) -> Conversation:
        try:
            msgs = [Message.model_validate(m) for m in json.loads(messages)]
        except (ValueError, TypeError):
            msgs = []  # a damaged row still lists and opens, empty, rather than breaking the page
        return Conversation(
            id=r["id"],
            title=r["title"],
            created=r["created"],
            updated=r["updated"],
            generation=r["generation"],
            model=r["model"],
            settings=json.loads(r["settings"] or "{}"),
            messages=msgs,
        )
