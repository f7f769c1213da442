"""The page's side of saved chats: browser and chat ids in the URL, opening, starting, saving and
listing a browser's chats (storage is ui.conversations)."""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from ui import rendering as R
from ui.conversations import Conversation, Conversations, Message, new_id, title_for, valid_id

PAGE_SETTINGS = ("top_k", "doc_filter", "year_range")  # widget keys saved with a conversation


@st.cache_resource
def get_conversations(data_dir: str) -> Conversations:
    return Conversations(Path(data_dir))


def init_session(chats: Conversations, generation: str | None) -> None:
    """The browser id and the open chat come from the URL, so a reload finds both again."""
    ss = st.session_state
    ss.setdefault("messages", [])  # [{"role": "user", ...}, {"role": "assistant", "answer": Answer, ...}]
    ss.setdefault("uploader_gen", 0)
    ss.setdefault("upload_results", [])
    if "browser" in ss:
        return
    qp = st.query_params
    browser = qp.get("b")
    if not valid_id(browser):
        browser = new_id()
        qp["b"] = browser
    ss["browser"] = browser
    conv_id = qp.get("c")
    if valid_id(conv_id) and chats.get(browser, conv_id):
        open_chat(chats, conv_id, generation)
    else:
        ss["conv_id"] = new_id()


def open_chat(chats: Conversations, conv_id: str, generation: str | None) -> None:
    ss = st.session_state
    conv = chats.get(ss["browser"], conv_id)
    if conv is None:
        return
    ss["conv_id"] = conv.id
    ss["messages"] = [{**m.model_dump(exclude={"answer"}), "answer": m.answer} for m in conv.messages]
    for key in PAGE_SETTINGS:
        if key in conv.settings:
            v = conv.settings[key]
            ss[key] = tuple(v) if key == "year_range" and v else v
    ss["stale_chat"] = bool(conv.messages) and conv.generation not in (None, generation)
    st.query_params["c"] = conv.id
    ss.pop("pending_question", None)


def new_chat() -> None:
    ss = st.session_state
    ss["messages"] = []
    ss["conv_id"] = new_id()
    ss["stale_chat"] = False
    for key in PAGE_SETTINGS:
        ss.pop(key, None)
    st.query_params["c"] = ss["conv_id"]
    ss.pop("pending_question", None)


def save_chat(chats: Conversations, generation: str | None, model: str | None) -> None:
    """Written after every answer, and whenever the page's filters change, so a reload loses nothing."""
    ss = st.session_state
    msgs = ss["messages"]
    page = {k: (list(ss[k]) if isinstance(ss.get(k), tuple) else ss[k]) for k in PAGE_SETTINGS if k in ss}
    have = chats.get(ss["browser"], ss["conv_id"])
    narrowed = tuple(ss.get("year_range") or ()) != tuple(ss.get("year_full") or ())
    if not msgs and have is None and not ss.get("doc_filter") and not narrowed:
        return  # nothing worth keeping yet
    first = next((m["content"] for m in msgs if m["role"] == "user"), "")
    answered = any(m.get("answer") is not None for m in msgs)
    conv = Conversation(
        id=ss["conv_id"],
        title=(have.title if have and have.title != "New chat" else title_for(first) or "New chat"),
        created=have.created if have else time.time(),
        updated=time.time(),
        generation=generation if answered and not ss.get("stale_chat") else (have.generation if have else None),
        model=model,
        settings=page,
        messages=[Message.model_validate({k: v for k, v in m.items() if k != "k"}) for m in msgs],
    )
    if have and have.model_dump(exclude={"updated"}) == conv.model_dump(exclude={"updated"}):
        return
    chats.save(ss["browser"], conv)
    st.query_params["c"] = conv.id


def chats_panel(chats: Conversations, generation: str | None) -> None:
    """This browser's saved chats: open, rename, delete (export is the Export button of the open one)."""
    ss = st.session_state
    saved = chats.list(ss["browser"])
    if not saved:
        return
    st.markdown("#### Chats")
    for conv in saved[:30]:
        current = conv.id == ss["conv_id"]
        when = R.format_timestamp(conv.updated)
        st.button(
            f"{conv.title} \u00b7 {when}",
            key=f"chat-{conv.id}",
            on_click=open_chat,
            args=(chats, conv.id, generation),
            type="primary" if current else "tertiary",
            width="stretch",
            help=conv.title,
        )
    if any(c.id == ss["conv_id"] for c in saved):
        with st.popover("Rename or delete this chat", icon=":material/edit:", width="stretch"):
            name = st.text_input("New title", key="rename_title", max_chars=80)
            if st.button("Rename", key="rename", disabled=not name.strip()):
                chats.rename(ss["browser"], ss["conv_id"], name)
                st.rerun()
            if st.button("Delete this chat", key="delete_chat", icon=":material/delete:"):
                chats.delete(ss["browser"], ss["conv_id"])
                new_chat()
                st.rerun()
