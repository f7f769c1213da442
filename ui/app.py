"""cadres-qa chat UI: `streamlit run ui/app.py` (or `cadres ui`).

All retrieval and answering is done by rag.Assistant; this file only renders. Document and model text
is always escaped (ui.rendering) before it reaches st.markdown, and HTML is never allowed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # `streamlit run ui/app.py` puts ui/ on sys.path, not the repo root
    sys.path.insert(0, str(_ROOT))

import streamlit as st  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from rag.models import Answer  # noqa: E402
from rag.settings import Settings  # noqa: E402
from ui import rendering as R  # noqa: E402
from ui.conversations import Conversation, Conversations, Message, new_id, title_for, valid_id  # noqa: E402
from ui.export import conversation_markdown, export_filename  # noqa: E402
from ui.uploads import ALLOWED_EXTENSIONS, ingest_uploads  # noqa: E402

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
PAGE_SETTINGS = ("top_k", "doc_filter", "year_range")  # widget keys saved with a conversation


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


# ------------------------------------------------------------------ session and saved chats
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


def ask_example(q: str) -> None:
    st.session_state["pending_question"] = q


def answers() -> list[Answer]:
    return [m["answer"] for m in st.session_state["messages"] if m.get("answer") is not None]


def earlier_questions() -> list[str]:
    qs = [m["content"] for m in st.session_state["messages"] if m["role"] == "user" and m.get("answered")]
    return qs[-HISTORY_TURNS:]


# ------------------------------------------------------------------ rendering
def render_citation(c, chunks: dict[str, str], turn: int) -> None:
    """One card a passage: the full reference, the passage with every quoted sentence highlighted,
    and for a PDF the cited page itself. Keyed, so it stays open or closed across questions."""
    from rag.citing import reference, safe_url

    key = R.card_key(turn, c.n)
    with st.expander(R.source_label_markdown(c), icon=":material/format_quote:", key=key, on_change="rerun"):
        url = safe_url(c.url)
        # The address is not in the Markdown (it would be autolinked there); it is the button below.
        st.markdown(R.escape_md(reference(c, style="plain", with_url=False)))
        if url:
            st.caption(R.escape_md(url))
            st.link_button("Open the source", url, icon=":material/open_in_new:")
        chunk = chunks.get(c.chunk_id)
        quotes = c.quotes or [c.quote]
        with st.container(border=True):
            if chunk:
                st.caption("Passage (the quoted sentences are highlighted)")
                st.markdown(R.highlight_all_markdown(chunk, quotes))
            else:
                st.caption("Quoted sentence")
                st.markdown(R.escape_md(" ".join(quotes)))
        pdf = (st.session_state.get("doc_sources") or {}).get(c.doc_id)
        if pdf and pdf.lower().endswith(".pdf") and c.page and st.toggle(
            f"Show page {c.page}", key=f"page-{key}"
        ):
            render_pdf_page(Path(pdf), c.page, quotes)


def render_pdf_page(pdf: Path, page: int, quotes: list[str]) -> None:
    from ui.pdf_pages import PageRenderError, pages_for_quote, render_page

    settings = load_settings()
    try:
        shown = sorted({p for q in quotes for p in pages_for_quote(pdf, page, q)} | {page})
        for p in shown:
            img = render_page(pdf, p, quotes, settings.data_dir / "page-cache")
            note = " (the quote continues here)" if p != page else ""
            st.image(str(img.path), caption=f"Page {p}{note}")
    except PageRenderError as e:
        st.caption(R.escape_md(f"The page cannot be shown: {e}"))


def copy_text(a: Answer) -> str:
    """The answer as plain text with its numbered references: what the copy button puts on the clipboard."""
    from rag.citing import reference

    lines = [a.answer.strip(), ""]
    lines += [f"[{c.n}] {reference(c, style='plain')}" + (f", p. {c.page}" if c.page else "") for c in a.citations]
    return "\n".join(lines).strip() + "\n"


def copy_button(a: Answer, turn: int) -> None:
    import html

    st.html(
        f'<button class="cadres-copy" data-cadres-copy="{html.escape(copy_text(a), quote=True)}" '
        f'id="copy-{turn}" title="Copy the answer with its references">Copy answer</button>'
    )


def filter_note(filters: dict | None) -> str:
    if not filters:
        return ""
    bits = []
    if filters.get("doc_ids"):
        n = len(filters["doc_ids"])
        bits.append(f"only {n} document{'s' if n > 1 else ''}")
    if filters.get("year_min") or filters.get("year_max"):
        bits.append(f"years {filters.get('year_min', '')}\u2013{filters.get('year_max', '')}")
    return "Filter active: " + ", ".join(bits) if bits else ""


def render_answer(msg: dict, turn: int) -> None:
    a: Answer = msg["answer"]
    if a.refused:
        st.warning(R.escape_md(R.refusal_text(a)), icon=":material/block:")
        note = filter_note(msg.get("filters"))
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
                render_citation(c, msg.get("chunks") or {}, turn)
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


# Opens a card when its [n] is clicked and copies answers; our own markup only, no document text.
PAGE_SCRIPT = """<script>
(function () {
  const doc = document;
  if (doc.__cadres) return;
  doc.__cadres = true;
  doc.addEventListener("click", function (ev) {
    const link = ev.target.closest && ev.target.closest('a[href*="#card-"]');
    if (link) {
      ev.preventDefault();
      ev.stopPropagation();
      const key = link.getAttribute("href").split("#")[1];
      const box = doc.querySelector(".st-key-" + key);
      if (!box) return;
      const details = box.querySelector("details");
      if (details && !details.open) {
        const summary = details.querySelector("summary");
        if (summary) summary.click();
      }
      setTimeout(function () { box.scrollIntoView({block: "center"}); }, 50);
      return;
    }
    const btn = ev.target.closest && ev.target.closest("button[data-cadres-copy]");
    if (btn) {
      const text = btn.getAttribute("data-cadres-copy");
      const done = function () { btn.textContent = "Copied"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () {});
      } else {
        const ta = doc.createElement("textarea");
        ta.value = text;
        doc.body.appendChild(ta);
        ta.select();
        doc.execCommand("copy");
        ta.remove();
        done();
      }
    }
  }, true);
})();
</script>"""


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
        "Text, Markdown, PDF or HTML",
        type=[e.lstrip(".") for e in ALLOWED_EXTENSIONS],
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
