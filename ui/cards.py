"""Source cards: one a passage, with the full reference, the highlighted passage, the PDF page, and
the copy button and page script that make [n] links and copying work."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from rag.models import Answer
from ui import rendering as R


def render_citation(c, chunks: dict[str, str], turn: int, data_dir: Path) -> None:
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
            render_pdf_page(Path(pdf), c.page, quotes, data_dir)


def render_pdf_page(pdf: Path, page: int, quotes: list[str], data_dir: Path) -> None:
    from ui.pdf_pages import PageRenderError, pages_for_quote, render_page

    try:
        shown = sorted({p for q in quotes for p in pages_for_quote(pdf, page, q)} | {page})
        for p in shown:
            img = render_page(pdf, p, quotes, data_dir / "page-cache")
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
