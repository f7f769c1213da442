"""ingest.cleaning: what every document's text goes through before chunking."""

from __future__ import annotations

import unicodedata

import pytest

from ingest.cleaning import clean_text, markdown_to_text


def test_nfc_normalisation():
    decomposed = "Cafe\u0301 in Ko\u0304be"  # e + combining acute, o + combining macron
    out = clean_text(decomposed)
    assert out == "Café in Kōbe"
    assert unicodedata.is_normalized("NFC", out)
    assert "\u0301" not in out and "\u0304" not in out


@pytest.mark.parametrize(
    "junk",
    ["\ufffd", "\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9f", "\ufeff", "\u200b", "\x0b", "\x0c"],
    ids=lambda c: f"U+{ord(c):04X}",
)
def test_replacement_nul_and_control_characters_removed(junk):
    out = clean_text(f"pri{junk}soners returned{junk} home.")
    assert out == "prisoners returned home."


def test_tab_and_newline_are_not_treated_as_junk():
    out = clean_text("one\ttwo\nthree")
    assert out == "one two\nthree"


def test_latex_quotes_become_typographic_quotes():
    assert clean_text("He said ``go home'' twice.") == "He said \u201cgo home\u201d twice."
    # Across a line break, and several pairs in one text.
    out = clean_text("``first\nline'' and ``second''")
    assert out == "\u201cfirst\nline\u201d and \u201csecond\u201d"
    assert "``" not in out and "''" not in out


def test_hyphenation_across_line_break_is_joined():
    assert clean_text("The inter-\nnees were released.") == "The internees were released."
    assert clean_text("repa-\n   triation began") == "repatriation began"
    assert clean_text("repa-\r\ntriation began") == "repatriation began"


def test_hyphenated_compound_with_capital_is_kept():
    out = clean_text("the Russo-\nJapanese war")
    assert "Russo-\nJapanese" in out
    assert "RussoJapanese" not in out


def test_soft_hyphens_removed():
    assert clean_text("repa\u00adtriation") == "repatriation"
    assert clean_text("repa\u00ad\ntriation") == "repatriation"


def test_whitespace_normalised():
    raw = "  Many\t\t men \u00a0were\u3000moved.  \r\n\r\n\r\n\r\n  Next   paragraph. \n  "
    assert clean_text(raw) == "Many men were moved.\n\nNext paragraph."


def test_line_endings_normalised():
    assert clean_text("a\r\nb\rc") == "a\nb\nc"


def test_empty_and_whitespace_only():
    assert clean_text("") == ""
    assert clean_text(" \n\t\u00a0\ufeff\x00 ") == ""


def test_clean_text_is_idempotent():
    raw = "``Quote'' with inter-\nnees,\u00a0Cafe\u0301 \ufffd and \n\n\n\n gaps  "
    once = clean_text(raw)
    assert clean_text(once) == once


def test_markdown_markup_dropped_words_kept():
    md = "# Title\n\nSome **bold** and *italic* and `code` with [a link](http://x.org).\n\n> quoted\n\n* item"
    out = clean_text(markdown_to_text(md))
    for word in ("Title", "bold", "italic", "code", "a link", "http://x.org", "quoted", "item"):
        assert word in out
    assert "**" not in out and "# " not in out and "`" not in out and "](" not in out


# ---------------------------------------------------------------- scholarly text
@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("They were freed in 1950.2 Similarly, the men", "They were freed in 1950. Similarly, the men"),
        ("the camps.12 Then the", "the camps. Then the"),
        ("death.[15] The next", "death. The next"),
        ("Bach[citation needed] wrote", "Bach wrote"),
        ("version 3.2 The manual", "version 3.2 The manual"),
        ("from 1937--1945 the war", "from 1937\u20131945 the war"),
        ("Japan\ufffds army said \ufffdno\ufffd to it", "Japan\u2019s army said \u201cno\u201d to it"),
        ("a lone \ufffdquote here", "a lone quote here"),
    ],
)
def test_scholarly_cleanup(raw, clean):
    from ingest.cleaning import clean_text

    assert clean_text(raw) == clean
