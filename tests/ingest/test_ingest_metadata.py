"""ingest.metadata: file-name defaults < front matter < sidecar, as stored on every chunk."""

from __future__ import annotations

import json

import pytest
from ingest_testlib import chunks_of, open_store, stored_chunks, write

from ingest.errors import FileRejected
from ingest.metadata import read_metadata, sidecar_for, slugify
from rag.models import DocumentMeta

# --------------------------------------------------------------------------- unit


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Smith 1950 Camps", "smith-1950-camps"),
        ("Kōan Maru: élan!", "koan-maru-elan"),
        ("  --  ", "document"),
        ("日本語", "日本語"),
        ("a" * 200, "a" * 80),
    ],
)
def test_slugify(text, slug):
    assert slugify(text) == slug


def test_defaults_from_file_name(tmp_path):
    p = write(tmp_path / "Smith_1950-Camps in Siberia.txt", "x")
    m = read_metadata(p, {})
    assert m.doc_id == "smith-1950-camps-in-siberia"
    assert m.title == "Smith 1950 Camps in Siberia"
    assert m.year == 1950
    assert m.authors == []
    assert m.source_type == "document"


@pytest.mark.parametrize(
    ("name", "year", "source_type"),
    [
        ("report-19501.pdf", None, "PDF document"),  # five digits: not a year
        ("x2023y.html", 2023, "web page"),  # only digits may not touch the year
        ("memo_1899.htm", 1899, "web page"),
        ("nodate.md", None, "document"),
    ],
)
def test_default_year_and_type(tmp_path, name, year, source_type):
    m = read_metadata(write(tmp_path / name, "x"), {})
    assert m.source_type == source_type
    assert m.year == year


def test_front_matter_overrides_defaults_with_aliases(tmp_path):
    p = write(tmp_path / "a_1990.md", "x")
    fm = {
        "Title": "Real Title",
        "author": "Sato, H. and Tanaka, Y.",
        "date": "1953-04-01",
        "journal": "Shin Nihon",
        "doc_id": "My Doc",
        "volume": 3,
        "themes": "memory",
        "unknown_field": "ignored",
    }
    m = read_metadata(p, fm)
    assert m.title == "Real Title"
    assert m.authors == ["Sato, H.", "Tanaka, Y."]
    assert m.year == 1953
    assert m.container == "Shin Nihon"
    assert m.doc_id == "my-doc"
    assert m.volume == "3"
    assert m.themes == ["memory"]


def test_sidecar_overrides_front_matter_and_html_title(tmp_path):
    p = write(tmp_path / "page.html", "<html></html>")
    write(sidecar_for(p), "title: From Sidecar\nauthors: [A, B]\n")
    assert sidecar_for(p).name == "page.html.meta.yaml"
    m = read_metadata(p, {"title": "From Front Matter", "year": 1950}, html_title="From Html")
    assert m.title == "From Sidecar"
    assert m.authors == ["A", "B"]
    assert m.year == 1950


def test_html_title_used_when_no_metadata(tmp_path):
    p = write(tmp_path / "page.html", "<html></html>")
    assert read_metadata(p, {}, html_title="From Html").title == "From Html"


@pytest.mark.parametrize(
    ("sidecar", "message"),
    [
        ("title: [unclosed\n", r"^doc\.pdf\.meta\.yaml: invalid YAML sidecar"),
        ("- just\n- a list\n", r"^doc\.pdf\.meta\.yaml: sidecar must be a YAML mapping"),
        ("year: unknown\n", r"^doc\.pdf\.meta\.yaml: field 'year' must be a four-digit year"),
        ("authors: {a: 1}\n", r"^doc\.pdf\.meta\.yaml: field 'authors' must be a list"),
    ],
)
def test_bad_sidecar_rejected_with_file_name(tmp_path, sidecar, message):
    p = write(tmp_path / "doc.pdf", b"%PDF")
    write(sidecar_for(p), sidecar)
    with pytest.raises(FileRejected, match=message):
        read_metadata(p, {})


# --------------------------------------------------------------------------- in the store


def _meta(corpus, name) -> list[dict]:
    rows = chunks_of(corpus.settings, corpus.path(name))
    assert rows, f"no chunks for {name}"
    return [m for _, _, m in rows]


def test_front_matter_metadata_on_chunks(formats_corpus):
    for m in _meta(formats_corpus, "front.md"):
        assert m["doc_id"] == "sato-memoirs-1953"
        assert m["title"] == "Memoirs of a Returnee"
        assert m["authors"] == "Sato, Hiroshi; Tanaka, Yuki"
        assert m["year"] == 1953
        assert m["container"] == "Shin Nihon"
        assert m["source_type"] == "document"


def test_pdf_sidecar_metadata_on_chunks(formats_corpus):
    for m in _meta(formats_corpus, "report.pdf"):
        assert m["doc_id"] == "port-report"
        assert m["title"] == "Port Report"
        assert m["authors"] == "Ivanov, I.; Li, W."
        assert m["year"] == 1956
        assert m["container"] == "Far Eastern Review"
        assert m["pages"] == "1-2"
        assert m["source_type"] == "PDF document"


def test_html_sidecar_beats_html_title(formats_corpus):
    for m in _meta(formats_corpus, "annotated.html"):
        assert m["title"] == "Title From Sidecar"
        assert m["year"] == 1951
        assert m["url"] == "http://example.org/a"
        assert m["doc_id"] == "annotated"
        assert m["source_type"] == "web page"


def test_html_title_without_metadata(formats_corpus):
    for m in _meta(formats_corpus, "harbin-page.html"):
        assert m["title"] == "Harbin Street Life"
        assert m["doc_id"] == "harbin-page"
        assert "year" not in m


def test_txt_sidecar_metadata(formats_corpus):
    for m in _meta(formats_corpus, "notes.txt"):
        assert m["title"] == "Field Notes"
        assert m["authors"] == "A. Petrov; B. Kim"
        assert m["year"] == 1949
        assert m["source_type"] == "diary"
        assert m["doc_id"] == "notes"


def test_file_name_defaults_on_chunks(formats_corpus):
    for m in _meta(formats_corpus, "Smith_1950-Camps in Siberia.txt"):
        assert m["doc_id"] == "smith-1950-camps-in-siberia"
        assert m["title"] == "Smith 1950 Camps in Siberia"
        assert m["year"] == 1950
        assert m["authors"] == ""


def test_manifest_keeps_full_metadata(formats_corpus):
    manifest = open_store(formats_corpus.settings).manifest()
    key = formats_corpus.path("front.md").resolve().as_posix()
    meta = DocumentMeta.model_validate(json.loads(manifest[key].meta))
    assert meta.themes == ["repatriation", "memory"]
    assert meta.doc_id == manifest[key].doc_id == "sato-memoirs-1953"


def test_sidecar_files_are_not_documents(formats_corpus):
    sources = {m["source"] for _, m in stored_chunks(formats_corpus.settings).values()}
    assert len(sources) == 11
    assert not any(s.endswith(".meta.yaml") for s in sources)


def test_non_latin_file_names_get_their_own_doc_ids(tmp_path, make_settings):
    from ingest import ingest_paths

    root = tmp_path / "docs"
    write(root / "Военнопленные в Сибири.txt", "Prisoners in Siberia. They worked in camps.")
    write(root / "シベリア抑留.txt", "Internment in Siberia. It lasted years.")
    write(root / "Репатриация.txt", "Repatriation began in 1946. Ships left Nakhodka.")
    r = ingest_paths([root], make_settings(), progress=False)
    assert r.files_failed == []
    assert r.files_added == 3
