"""cadres-qa chat UI: `streamlit run ui/app.py` (or `cadres ui`).

All retrieval and answering is done by rag.Assistant; this file only renders. Document and model text
is always escaped (ui.rendering) before it reaches st.markdown, and HTML is never allowed.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # `streamlit run ui/app.py` puts ui/ on sys.path, not the repo root
    sys.path.insert(0, str(_ROOT))

import streamlit as st  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from rag.models import Answer  # noqa: E402
from rag.settings import Settings  # noqa: E402
from ui import rendering as R  # noqa: E402
from ui.cards import PAGE_SCRIPT, copy_button, render_citation  # noqa: E402
from ui.chats import chats_panel, get_conversations, init_session, new_chat, save_chat  # noqa: E402
from ui.conversations import Conversations  # noqa: E402
from ui.export import conversation_markdown, export_filename  # noqa: E402
from ui.uploads import accepted_types, ingest_uploads  # noqa: E402

EXAMPLES = [
    "How did the Soviet Union treat the Japanese internees?",
    "Why did the Chinese Communists keep Japanese technicians and doctors?",
    "What happened at the Khabarovsk trial in 1949?",
    "When did the last Japanese internees return from the Soviet Union?",
]
WARM_UP = "How did the Soviet Union treat the Japanese internees?"
HISTORY_TURNS = 6  # earlier questions passed to the Assistant for follow-ups
SPINNER = "Loading the embedding model and the document store\u2026"

# An emoji, not a Material icon: a Material page icon is fetched from fonts.gstatic.com, and nothing
# may leave this machine.
st.set_page_config(page_title="cadres-qa", page_icon="\U0001f4dc", layout="centered")


# ------------------------------------------------------------------ resources
def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as e:
        err = e.errors()[0]
        field = "CADRES_" + str(err["loc"][0]).upper() if err["loc"] else "settings"
        st.error(R.escape_md(f"Invalid setting {field}: {err['msg']}"))
        st.stop()
        raise  # st.stop() raises; this line is for type checkers


@st.cache_resource(show_spinner="Loading the embedding model and the search index (first start only)\u2026")
def get_assistant(key: str, _settings: Settings):
    """One Assistant (embedding model + store) per process and settings, shared by all sessions."""
    from rag.assistant import Assistant

    qa = Assistant(_settings)
    try:  # warm up once here, so that no user's first question waits for the model and the indexes
        if qa.mode == "extractive":
            qa.ask(WARM_UP)
        else:
            qa.retrieve(WARM_UP, k=1)
    except Exception:  # e.g. nothing ingested yet: the page says so, and asking reports it
        pass
    return qa


def settings_key(s: Settings) -> str:
    """Different settings (data dir, model, collection, ...) get different Assistants."""
    return repr(sorted(s.public_dict().items()))


def friendly(e: Exception) -> str:
    from rag.store import StoreError

    if isinstance(e, StoreError):
        return f"The document store is not available: {e}"
    return f"Something went wrong ({type(e).__name__}: {e})."


def ask_example(q: str) -> None:
    st.session_state["pending_question"] = q


def answers() -> list[Answer]:
    return [m["answer"] for m in st.session_state["messages"] if m.get("answer") is not None]


def earlier_questions() -> list[str]:
    qs = [m["content"] for m in st.session_state["messages"] if m["role"] == "user" and m.get("answered")]
    return qs[-HISTORY_TURNS:]


# ------------------------------------------------------------------ rendering
def render_answer(msg: dict, turn: int) -> None:
    a: Answer = msg["answer"]
    if a.refused:
        st.warning(R.escape_md(R.refusal_text(a)), icon=":material/block:")
        note = R.filter_note(msg.get("filters"))
        if note:
            st.caption(R.escape_md(note + " (the sidebar's filter limits what could be found)"))
        if a.closest_sources:
            st.markdown(
                "**Closest sources in the corpus:**\n\n"
                + "\n".join(f"- {R.escape_md_inline(s)}" for s in a.closest_sources)
            )
    else:
        st.markdown(R.answer_markdown(a.answer, turn))
        if a.unsupported:
            st.caption(
                "Removed because the cited passage did not support it: "
                + " | ".join(R.escape_md_inline(u) for u in a.unsupported)
            )
        if a.citations:
            copy_button(a, turn)
            st.markdown("**Sources**")
            for c in a.citations:
                render_citation(c, msg.get("chunks") or {}, turn, load_settings().data_dir)
    bits = [f"{a.mode} answer"]
    if a.timings_ms.get("total"):
        bits.append(f"{a.timings_ms['total'] / 1000:.1f} s")
    if msg.get("history") and a.query and a.query != a.question:
        bits.append(f"searched as a follow-up: \u201c{R.escape_md_inline(a.query)}\u201d")
    st.caption(" \u00b7 ".join(bits))


def render_message(msg: dict, turn: int) -> None:
    if msg["role"] == "user":
        with st.chat_message("user"):
            st.markdown(R.escape_md(msg["content"]))
        return
    with st.chat_message("assistant"):
        if msg.get("error"):
            st.error(R.escape_md(msg["error"]))
        else:
            render_answer(msg, turn)


def interrupted(msg: dict, i: int) -> None:
    """A question whose run was cut short (the page was used while it was being answered)."""
    with st.chat_message("assistant"):
        st.caption("This question was interrupted before it was answered.")
        st.button("Ask again", key=f"retry_{i}", icon=":material/replay:", on_click=retry, args=(i,))


def retry(i: int) -> None:
    msgs = st.session_state["messages"]
    if i < len(msgs) and msgs[i]["role"] == "user":
        st.session_state["pending_question"] = msgs.pop(i)["content"]


# ------------------------------------------------------------------ asking
def handle_question(qa, question: str, k: int, filters: dict | None) -> None:
    from rag.assistant import QuestionError

    ss = st.session_state
    history = earlier_questions()
    user = {"role": "user", "content": question, "answered": False}
    ss["messages"].append(user)
    render_message(user, len(ss["messages"]) - 1)
    with st.chat_message("assistant"):
        box = st.empty()
        box.caption("Searching the corpus\u2026")
        answer, text = None, ""
        try:
            for ev in qa.stream(question, history=history, k=k, filters=filters):
                if ev.type == "retrieval":
                    box.caption(f"Found {len(ev.passages)} passages; composing the answer\u2026")
                elif ev.type == "token":
                    text += ev.text
                    box.markdown(R.answer_markdown(text) + " \u258c")
                elif ev.type == "answer":
                    answer = ev.answer
            if answer is None:
                raise RuntimeError("the assistant returned no answer")
        except QuestionError as e:
            msg = {"role": "assistant", "error": f"That question cannot be asked: {e}"}
        except Exception as e:  # the user sees a message, never a traceback
            msg = {"role": "assistant", "error": friendly(e)}
        else:
            try:
                chunks = qa.chunk_texts([c.chunk_id for c in answer.citations])
            except Exception:
                chunks = {}
            user["answered"] = True
            msg = {"role": "assistant", "answer": answer, "chunks": chunks, "history": history, "k": k, "filters": filters}
        ss["messages"].append(msg)
        with box.container():
            if msg.get("error"):
                st.error(R.escape_md(msg["error"]))
            else:
                render_answer(msg, len(ss["messages"]) - 1)


# ------------------------------------------------------------------ sidebar
def sidebar(qa, settings: Settings, chats: Conversations, generation: str | None):
    """Draws the sidebar; returns (top-k, filters or None, the slots for the export button and the chats)."""
    filters: dict = {}
    with st.sidebar:
        st.markdown("### \U0001f4dc cadres-qa")
        c1, c2 = st.columns(2)
        c1.button("New chat", key="new_chat", icon=":material/add_comment:", on_click=new_chat, width="stretch")
        export_slot = c2.empty()  # filled at the end of the run, after a new answer
        chats_slot = st.container()  # likewise: a chat saved in this run is listed at once
        st.markdown("#### Corpus")
        docs: list[dict] = []
        try:
            with st.spinner(SPINNER):
                status = qa.status()
                docs = qa.documents() if status["documents"] else []
        except Exception as e:
            status = None
            st.error(R.escape_md(friendly(e)))
        if status:
            m1, m2 = st.columns(2)
            m1.metric("Documents", status["documents"])
            m2.metric("Chunks", status["chunks"])
            mode = status["answer_mode"] + ("" if status["answer_mode"] == "extractive" else f" ({status['llm']})")
            st.caption(
                f"Last ingest: {R.format_timestamp(status['last_ingest'])}  \n"
                f"Embedding model: {R.escape_md_inline(R.model_name(status['embedding_model']))}  \n"
                f"Answer mode: {R.escape_md_inline(mode)}"
            )

        st.markdown("#### Search")
        top = max(20, settings.top_k)
        ss = st.session_state
        if not isinstance(ss.get("top_k"), int) or not 1 <= ss["top_k"] <= top:
            ss["top_k"] = settings.top_k  # the default, or a saved value that no longer fits
        k = st.slider("Passages per answer (top-k)", 1, top, key="top_k")
        st.session_state["doc_sources"] = {d["doc_id"]: str(d.get("source") or "") for d in docs}
        if docs:
            titles = {d["doc_id"]: " ".join(str(d.get("title") or d["doc_id"]).split()) for d in docs}
            if st.session_state.get("doc_filter"):  # a saved filter naming a document no longer ingested
                st.session_state["doc_filter"] = [d for d in st.session_state["doc_filter"] if d in titles]
            # Option labels are plain text (not Markdown): full titles, nothing escaped.
            chosen = st.multiselect(
                "Only these documents",
                options=list(titles),
                format_func=lambda d: titles.get(d, d),
                key="doc_filter",
                placeholder="All documents",
            )
            if chosen:
                filters["doc_ids"] = list(chosen)
                st.caption("\n".join(f"- {R.escape_md_inline(titles[d])}" for d in chosen))
            years = sorted({int(d["year"]) for d in docs if d.get("year")})
            if len(years) >= 2:
                ss["year_full"] = (years[0], years[-1])
                saved = ss.get("year_range")
                if not (isinstance(saved, tuple | list) and len(saved) == 2 and years[0] <= saved[0] <= saved[1] <= years[-1]):
                    ss["year_range"] = (years[0], years[-1])
                lo, hi = st.slider("Publication year", years[0], years[-1], key="year_range")
                if (lo, hi) != (years[0], years[-1]):  # the full range also keeps undated documents
                    filters["year_min"], filters["year_max"] = int(lo), int(hi)

        st.markdown("#### Add documents")
        upload_panel(settings)
    return k, (filters or None), export_slot, chats_slot


def export_button(slot) -> None:
    """The download button, drawn last so that the file includes the answer given in this run."""
    done = answers()
    slot.download_button(
        "Export",
        data=conversation_markdown(done),
        file_name=export_filename(),
        mime="text/markdown",
        key="export",
        icon=":material/download:",
        on_click="ignore",
        disabled=not done,
        help="The conversation as Markdown, with a Chicago author-date bibliography",
        width="stretch",
    )


def upload_panel(settings: Settings) -> None:
    ss = st.session_state
    files = st.file_uploader(
        "Text, Markdown, PDF or HTML (and FILE.meta.yaml metadata)",
        type=accepted_types(),
        accept_multiple_files=True,
        key=f"uploader_{ss['uploader_gen']}",
        max_upload_size=max(1, int(round(settings.max_file_mb))),
        help=f"Up to {settings.max_file_mb:g} MB per file. Documents are added to the shared corpus.",
    )
    if files and st.button(f"Add {len(files)} file(s) to the corpus", key="ingest", type="primary", width="stretch"):
        with st.status(f"Adding {len(files)} file(s)\u2026", expanded=True) as box:
            bar = st.progress(0.0, text="Starting\u2026")

            def progress(done: int, total: int, name: str) -> None:
                label = f"{done}/{total} ingested" + (f" \u00b7 now: {name}" if name else "")
                bar.progress(done / total if total else 1.0, text=R.escape_md_inline(label))

            try:
                summary = ingest_uploads([(f.name, f.getvalue()) for f in files], settings, progress)
                results = [(r.ok, r.message) for r in summary.results]
            except Exception as e:
                results = [(False, friendly(e))]
            failed = sum(1 for ok, _ in results if not ok)
            box.update(
                label=f"{len(results) - failed} added, {failed} failed",
                state="error" if failed else "complete",
                expanded=False,
            )
        ss["upload_results"] = results
        ss["uploader_gen"] += 1  # a fresh, empty uploader
        st.rerun()  # the status, the document list and the retriever see the new documents
    for ok, message in ss.get("upload_results") or []:
        (st.success if ok else st.error)(R.escape_md(message))


# ------------------------------------------------------------------ page
def store_state(qa) -> tuple[str | None, str | None]:
    """(store generation, embedding model): what a chat's answers were given against."""
    try:
        return qa.store.generation(), qa.searcher.embedder.fingerprint
    except Exception:
        return None, None


def main() -> None:
    settings = load_settings()
    qa = get_assistant(settings_key(settings), settings)
    chats = get_conversations(str(settings.data_dir))
    generation, model = store_state(qa)
    init_session(chats, generation)
    k, filters, export_slot, chats_slot = sidebar(qa, settings, chats, generation)
    st.html(PAGE_SCRIPT, unsafe_allow_javascript=True)

    st.title("Japanese in the USSR and China, 1945\u20131956", anchor=False)
    st.caption(
        "Questions answered from Amy King and Sherzod Muminov, \u201cJapan Still Has Cadres Remaining\u201d "
        "(*Journal of Cold War Studies* 24, no. 3, 2022) and background notes. Every sentence of an answer "
        "cites its source; questions the corpus cannot answer are declined."
    )

    ss = st.session_state
    if ss.get("stale_chat"):
        st.info(
            "The corpus has been re-ingested since this chat was answered: answers may differ now.",
            icon=":material/update:",
        )
    msgs = ss["messages"]
    for i, msg in enumerate(msgs):
        render_message(msg, i)
        if msg["role"] == "user" and (i + 1 == len(msgs) or msgs[i + 1]["role"] != "assistant"):
            interrupted(msg, i)

    typed = st.chat_input("Ask about the Japanese in the USSR and China\u2026", key="question")
    pending = ss.pop("pending_question", None)
    question = typed or pending
    if not ss["messages"] and not question:
        st.markdown("##### Try one of these")
        cols = st.columns(2)
        for i, q in enumerate(EXAMPLES):
            cols[i % 2].button(
                q, key=f"example_{i}", on_click=ask_example, args=(q,), width="stretch", wrap=True
            )
    if question:
        handle_question(qa, question, k, filters)
    save_chat(chats, generation, model)
    with chats_slot:
        chats_panel(chats, generation)
    export_button(export_slot)


main()
