"""ingest.loaders: decoding and format handling, checked on the text that ends up in the store."""

from __future__ import annotations

import codecs

import pytest
from ingest_testlib import (
    CP1252_TEXT,
    JA_TEXT,
    PDF_PAGES,
    UTF8_BOM_TEXT,
    UTF16_TEXT,
    chunks_of,
    make_pdf,
    write,
)

from ingest.errors import FileRejected
from ingest.loaders import decode_bytes, load_file, split_front_matter

# --------------------------------------------------------------------------- decoding (unit)


@pytest.mark.parametrize(
    "data",
    [
        UTF16_TEXT.encode("utf-16"),
        codecs.BOM_UTF16_BE + UTF16_TEXT.encode("utf-16-be"),
        codecs.BOM_UTF16_LE + UTF16_TEXT.encode("utf-16-le"),
        UTF16_TEXT.encode("utf-32"),
        codecs.BOM_UTF32_BE + UTF16_TEXT.encode("utf-32-be"),
        codecs.BOM_UTF8 + UTF16_TEXT.encode("utf-8"),
        UTF16_TEXT.encode("utf-8"),
    ],
    ids=["utf16", "utf16-be", "utf16-le", "utf32", "utf32-be", "utf8-sig", "utf8"],
)
def test_decode_bytes_with_and_without_bom(data):
    assert decode_bytes(data, "x.txt").lstrip("\ufeff") == UTF16_TEXT


def test_decode_shift_jis():
    assert decode_bytes(JA_TEXT.encode("shift_jis"), "ja.txt") == JA_TEXT


def test_decode_cp1252():
    assert decode_bytes(CP1252_TEXT.encode("cp1252"), "cp.txt") == CP1252_TEXT


def test_decode_rejects_nul_bytes_as_binary():
    with pytest.raises(FileRejected, match=r"^x\.txt: binary file"):
        decode_bytes(b"abc\x00def" * 10, "x.txt")


def test_decode_short_shift_jis_is_japanese_and_flagged_as_a_guess():
    warnings: list[str] = []
    text = "興安丸は舞鶴に着いた。"
    assert decode_bytes(text.encode("shift_jis"), "ja.txt", warnings) == text
    assert len(warnings) == 1 and "ja.txt" in warnings[0] and "low confidence" in warnings[0]


def test_decode_long_text_in_a_detected_encoding_is_not_flagged():
    warnings: list[str] = []
    text = "Это длинный русский текст о возвращении японских военнопленных домой. " * 80
    assert decode_bytes(text.encode("cp1251"), "ru.txt", warnings) == text
    assert warnings == []


@pytest.mark.parametrize("enc", ["utf-16-le", "utf-16-be"])
def test_decode_utf16_without_bom_by_its_nul_pattern(enc):
    assert decode_bytes(UTF16_TEXT.encode(enc), "x.txt") == UTF16_TEXT


def test_one_stray_nul_does_not_make_a_text_binary():
    text = "A good plain text file. " * 200
    data = text.encode() + b"\x00" + text.encode()
    assert decode_bytes(data, "x.txt").count("good plain text") == 400


def test_decode_rejects_corrupt_utf16():
    with pytest.raises(FileRejected, match=r"x\.txt: corrupt utf-16"):
        decode_bytes(codecs.BOM_UTF16_LE + b"a\x00b", "x.txt")  # odd number of bytes


def test_front_matter_split_and_errors():
    fm, body = split_front_matter("---\ntitle: T\nyear: 1950\n---\nBody text.", "a.md")
    assert fm == {"title": "T", "year": 1950}
    assert body == "Body text."
    assert split_front_matter("No front matter.\n---\n", "a.md") == ({}, "No front matter.\n---\n")
    assert split_front_matter("---\nnever closed", "a.md") == ({}, "---\nnever closed")
    with pytest.raises(FileRejected, match=r"^a\.md: invalid YAML front matter"):
        split_front_matter("---\ntitle: [unclosed\n---\nBody", "a.md")
    with pytest.raises(FileRejected, match=r"^a\.md: front matter must be a YAML mapping"):
        split_front_matter("---\n- a list\n---\nBody", "a.md")


def test_load_pdf_pages_keep_their_numbers(tmp_path):
    p = write(tmp_path / "two.pdf", make_pdf(PDF_PAGES))
    loaded = load_file(p)
    assert [n for n, _ in loaded.pages] == [1, 2]
    assert loaded.pages[0][1] == "\n".join(PDF_PAGES[0])
    assert loaded.pages[1][1] == "\n".join(PDF_PAGES[1])


def test_load_pdf_skips_empty_pages_but_keeps_numbering(tmp_path):
    p = write(tmp_path / "gap.pdf", make_pdf([["First page."], [], ["Third page."]]))
    assert [(n, t) for n, t in load_file(p).pages] == [(1, "First page."), (3, "Third page.")]


def test_load_unsupported_extension(tmp_path):
    p = write(tmp_path / "notes.docx", b"PK\x03\x04 not really a docx")
    with pytest.raises(FileRejected, match=r"^notes\.docx: unsupported file type \.docx"):
        load_file(p)


# --------------------------------------------------------------------------- in the store


def _single_chunk_text(corpus, name: str) -> str:
    rows = chunks_of(corpus.settings, corpus.path(name))
    assert len(rows) == 1, f"{name}: expected one chunk, got {len(rows)}"
    return rows[0][1]


def test_formats_corpus_all_ingested(formats_corpus):
    r = formats_corpus.report
    assert r.files_failed == []
    assert r.files_seen == r.files_added == 11  # sidecars are not documents
    assert r.exit_code == 0


@pytest.mark.parametrize("name", ["utf16-le.txt", "utf16-be.txt"])
def test_utf16_with_bom_ingested(formats_corpus, name):
    assert _single_chunk_text(formats_corpus, name) == UTF16_TEXT


def test_utf8_with_bom_ingested(formats_corpus):
    text = _single_chunk_text(formats_corpus, "utf8-bom.txt")
    assert text == UTF8_BOM_TEXT
    assert "\ufeff" not in text


def test_shift_jis_ingested(formats_corpus):
    assert _single_chunk_text(formats_corpus, "shift-jis.txt") == JA_TEXT


def test_cp1252_ingested(formats_corpus):
    assert _single_chunk_text(formats_corpus, "cp1252.txt") == CP1252_TEXT


def test_cp1252_file_is_at_least_ingested_without_replacement_chars(formats_corpus):
    text = _single_chunk_text(formats_corpus, "cp1252.txt")
    assert "\ufffd" not in text
    assert text.startswith("After 1945 the café owners in Harbin")


def test_markdown_front_matter_stripped_and_markup_dropped(formats_corpus):
    rows = chunks_of(formats_corpus.settings, formats_corpus.path("front.md"))
    text = "\n".join(r[1] for r in rows)
    assert "Chapter One" in text
    assert "The train left Harbin in autumn." in text
    assert "the map (http://example.org/map)" in text
    for markup in ("---", "doc_id", "title:", "**", "# "):
        assert markup not in text


def test_pdf_chunks_keep_page_numbers(formats_corpus):
    rows = chunks_of(formats_corpus.settings, formats_corpus.path("report.pdf"))
    assert [m["page"] for _, _, m in rows] == [1, 2]
    for (_, text, _), lines in zip(rows, PDF_PAGES, strict=True):
        assert text == "\n".join(lines)


def test_html_visible_text_kept_script_and_style_dropped(formats_corpus):
    rows = chunks_of(formats_corpus.settings, formats_corpus.path("harbin-page.html"))
    text = "\n".join(r[1] for r in rows)
    assert "Life in Harbin" in text
    assert "Japanese families stayed in Harbin after 1945. They sold goods at the market." in text
    assert "Most of them left in 1946." in text
    for hidden in (
        "SCRIPT-MARKER-XYZ",
        "INLINE-SCRIPT-XYZ",
        "NOSCRIPT-XYZ",
        "style-marker-xyz",
        "color",
        "<p>",
    ):
        assert hidden not in text
    # The <title> is metadata, not body text.
    assert "Harbin Street Life" not in text
    assert all(m["title"] == "Harbin Street Life" for _, _, m in rows)


def test_html_title_whitespace(tmp_path):
    p = write(
        tmp_path / "t.html",
        "<html><head><title>Plain Title</title></head><body><p>Body.</p></body></html>",
    )
    loaded = load_file(p)
    assert loaded.html_title == "Plain Title"
    assert loaded.pages == [(None, "Body.")]


def test_html_title_whitespace_is_collapsed(tmp_path):
    p = write(
        tmp_path / "t.html",
        "<html><head><title>\n   Japanese   internees\n   in Manchuria\n</title></head><body><p>Body.</p></body></html>",
    )
    assert load_file(p).html_title == "Japanese internees in Manchuria"
