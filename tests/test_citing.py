"""rag.citing.reference and safe_url: full Chicago author-date references, exact strings."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.citing import bibliography, bibliography_entry, reference, safe_url
from rag.models import Citation, Passage

REPO = Path(__file__).resolve().parents[1]
KM_TITLE = "Japan Still Has Cadres Remaining: Japanese in the USSR and China from World War II to Cold War, 1945\u20131956"
KM = dict(
    title=KM_TITLE,
    authors=["Amy King", "Sherzod Muminov"],
    year=2022,
    container="Journal of Cold War Studies",
    volume="24",
    issue="3",
    pages="200\u2013230",
    source_type="journal article",
)
KM_HEAD = f"King, Amy, and Sherzod Muminov. 2022. \u201c{KM_TITLE}.\u201d"


def cit(**kw) -> Citation:
    kw.setdefault("title", "Untitled")
    return Citation(n=1, doc_id=kw.pop("doc_id", "d"), chunk_id="d::00000", quote="q", **kw)


# ------------------------------------------------------------------ journal articles


def test_journal_article_as_in_the_issue():
    c = cit(**KM, doi="10.1162/jcws_a_01083", url="https://direct.mit.edu/jcws/article/24/3/200/112900")
    assert reference(c) == f"{KM_HEAD} *Journal of Cold War Studies* 24 (3): 200\u2013230. https://doi.org/10.1162/jcws_a_01083."
    # Plain: the same words, no Markdown.
    assert reference(c, "plain") == f"{KM_HEAD} Journal of Cold War Studies 24 (3): 200\u2013230. https://doi.org/10.1162/jcws_a_01083."
    assert reference(c, "plain", with_url=False) == f"{KM_HEAD} Journal of Cold War Studies 24 (3): 200\u2013230."


def test_the_shipped_article_from_its_sidecar():
    """The corpus's own metadata, read as ingest reads it: the issue's example, with the article's URL."""
    from ingest.metadata import read_metadata

    meta = read_metadata(REPO / "docs_corpus" / "king-muminov-2022-abstract.txt", {})
    assert reference(meta) == (
        f"{KM_HEAD} *Journal of Cold War Studies* 24 (3): 200\u2013230. "
        "https://direct.mit.edu/jcws/article/24/3/200/112900/Japan-Still-Has-Cadres-Remaining-Japanese-in-the."
    )


def test_background_notes_from_their_front_matter():
    import yaml

    text = (REPO / "docs_corpus" / "related" / "soviet-internment-labour.md").read_text(encoding="utf-8")
    fm = yaml.safe_load(text.split("---", 2)[1])
    assert fm["source_type"] == "background notes"
    assert reference(fm) == (
        "cadres-qa editors. 2026. \u201cThe Soviet internment of Japanese: decrees, numbers, camps and labour.\u201d "
        "*cadres-qa background notes*."
    )


@pytest.mark.parametrize(
    ("fields", "tail"),
    [
        (dict(volume="24"), "*J* 24."),
        (dict(volume="24", pages="200-230"), "*J* 24: 200\u2013230."),  # a hyphen becomes the en dash
        (dict(volume="Vol. 24", issue="no. 3"), "*J* 24 (3)."),  # labels dropped
        (dict(issue="3", pages="5--9"), "*J*, no. 3: 5\u20139."),
        (dict(pages="200\u2013230"), "*J*, 200\u2013230."),
        ({}, "*J*."),
    ],
)
def test_journal_article_with_missing_fields(fields, tail):
    c = cit(title="T", authors=["Amy King"], year=2022, container="J", source_type="journal article", **fields)
    assert reference(c) == f"King, Amy. 2022. \u201cT.\u201d {tail}"


def test_article_without_a_container_keeps_only_what_makes_sense():
    c = cit(title="T", authors=["Amy King"], year=2022, volume="24", pages="1-2", source_type="journal article")
    assert reference(c) == "King, Amy. 2022. \u201cT.\u201d"


# ------------------------------------------------------------------ other kinds of source


@pytest.mark.parametrize("source_type", ["book chapter", "chapter", "Chapter in book", "incollection"])
def test_book_chapter(source_type):
    c = cit(title="Prisoners of Peace", authors=["Jane Smith"], year=2020, container="The Long Return",
            pages="45-67", source_type=source_type)
    assert reference(c) == "Smith, Jane. 2020. \u201cPrisoners of Peace.\u201d In *The Long Return*, 45\u201367."
    assert reference(c, "plain") == "Smith, Jane. 2020. \u201cPrisoners of Peace.\u201d In The Long Return, 45\u201367."
    c.pages = None
    assert reference(c) == "Smith, Jane. 2020. \u201cPrisoners of Peace.\u201d In *The Long Return*."


def test_book():
    c = cit(title="The Gods Left First", authors=["Andrew Barshay"], year=2013, source_type="book")
    assert reference(c) == "Barshay, Andrew. 2013. *The Gods Left First*."
    c.container = "Asia Pacific Modern"  # a series, set roman
    assert reference(c) == "Barshay, Andrew. 2013. *The Gods Left First*. Asia Pacific Modern."
    assert reference(c, "plain") == "Barshay, Andrew. 2013. The Gods Left First. Asia Pacific Modern."


@pytest.mark.parametrize("source_type", ["web page", "webpage", "web", "website"])
def test_web_page(source_type):
    c = cit(title="Repatriation from the USSR", authors=["cadres-qa editors"], year=2026, container="cadres-qa notes",
            url="https://example.org/notes/repatriation", source_type=source_type)
    assert reference(c) == (
        "cadres-qa editors. 2026. \u201cRepatriation from the USSR.\u201d cadres-qa notes. "
        "https://example.org/notes/repatriation."
    )


def test_web_page_as_ingest_describes_an_html_file():
    """ingest.metadata gives an HTML file source_type "web page", its <title> and no year or author."""
    c = cit(title="Harbin Street Life", source_type="web page", url="https://example.org/harbin")
    assert reference(c) == "Harbin Street Life. n.d. https://example.org/harbin."


def test_report_and_thesis():
    r = cit(title="Repatriation Statistics", authors=["Ministry of Health and Welfare"], year=1955,
            container="Repatriation Relief Bureau", source_type="report")
    assert reference(r) == "Ministry of Health and Welfare. 1955. *Repatriation Statistics*. Repatriation Relief Bureau."
    t = cit(title="Returnees", authors=["Yuki Tanaka"], year=2001, container="Kyoto University", source_type="PhD dissertation")
    assert reference(t) == "Tanaka, Yuki. 2001. \u201cReturnees.\u201d PhD diss., Kyoto University."


def test_untyped_pdf_reads_as_a_book_or_an_article_in_its_container():
    pdf = cit(title="Camp notices", authors=["Amy King"], year=1950, source_type="PDF document")
    assert reference(pdf) == "King, Amy. 1950. *Camp notices*."
    pdf.container = "Hokkaido Papers"
    assert reference(pdf) == "King, Amy. 1950. \u201cCamp notices.\u201d *Hokkaido Papers*."


# ------------------------------------------------------------------ missing fields


def test_missing_year_is_nd():
    assert reference(cit(title="Notes", authors=["Amy King"], source_type="book")) == "King, Amy. n.d. *Notes*."


def test_missing_authors_lead_with_the_title_as_the_label_does():
    c = cit(title="Sino-Soviet Treaty", year=1950, container="Pravda", source_type="newspaper article")
    assert reference(c) == "Sino-Soviet Treaty. 1950. *Pravda*."
    assert c.label == "Sino-Soviet Treaty 1950"
    assert reference({"title": "Untitled notes"}) == "Untitled notes. n.d."
    assert reference({}) == "Untitled. n.d."


def test_title_ending_in_a_question_mark_gets_no_full_stop():
    c = cit(title="Who Returned?", authors=["Amy King"], year=2022, container="J", source_type="article")
    assert reference(c) == "King, Amy. 2022. \u201cWho Returned?\u201d *J*."


def test_quotes_inside_a_quoted_title_become_single():
    c = cit(title="The \u201cDemocratic\u201d Movement", authors=["Amy King"], year=2022, container="J")
    assert reference(c, "plain") == "King, Amy. 2022. \u201cThe \u2018Democratic\u2019 Movement.\u201d J."


# ------------------------------------------------------------------ authors


@pytest.mark.parametrize(
    ("authors", "lead"),
    [
        (["Amy King"], "King, Amy."),
        (["Barshay, Andrew E."], "Barshay, Andrew E."),  # already inverted, no doubled full stop
        (["Amy King", "Sherzod Muminov"], "King, Amy, and Sherzod Muminov."),
        (["King, Amy", "Muminov, Sherzod"], "King, Amy, and Sherzod Muminov."),  # later names given first
        (["Adam Cathcart", "Patricia Nash", "Wei Li"], "Cathcart, Adam, Patricia Nash, and Wei Li."),
        (["A Aa", "B Bb", "C Cc", "D Dd"], "Aa, A, B Bb, C Cc, and D Dd."),
        (["cadres-qa editors"], "cadres-qa editors."),  # an organisation, whole
        (["United Nations"], "United Nations."),
        (["cadres-qa editors", "Amy King"], "cadres-qa editors and Amy King."),
        (["Ludwig van Beethoven"], "Beethoven, Ludwig van."),
        (["Martin Luther King Jr."], "King, Martin Luther, Jr."),
    ],
)
def test_authors(authors, lead):
    assert reference(cit(title="T", authors=authors, year=2000, source_type="book"), "plain") == f"{lead} 2000. T."


def test_blank_authors_count_as_none():
    assert reference(cit(title="T", authors=["", "  "], year=2000, source_type="book"), "plain") == "T. 2000."


def test_ten_authors_spelled_out():
    names = ["Amy King", "Sherzod Muminov", "Lori Watt", "Andrew Barshay", "Adam Cathcart", "Patricia Nash",
             "Wei Li", "Yuki Tanaka", "Jane Smith", "Hiroshi Sato"]
    out = reference(cit(title="T", authors=names, year=2000, source_type="book"), "plain")
    assert out == ("King, Amy, Sherzod Muminov, Lori Watt, Andrew Barshay, Adam Cathcart, Patricia Nash, "
                   "Wei Li, Yuki Tanaka, Jane Smith, and Hiroshi Sato. 2000. T.")
    out = reference(cit(title="T", authors=[*names, "Ken Ito"], year=2000, source_type="book"), "plain")
    assert out == ("King, Amy, Sherzod Muminov, Lori Watt, Andrew Barshay, Adam Cathcart, Patricia Nash, "
                   "Wei Li, et al. 2000. T.")


# ------------------------------------------------------------------ links and Markdown safety


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://doi.org/10.1162/jcws_a_01083", "https://doi.org/10.1162/jcws_a_01083"),
        ("  HTTP://Example.ORG/a b?q=<x>  ", "http://example.org/a%20b?q=%3Cx%3E"),
        ("https://example.org/a*b$c", "https://example.org/a%2Ab%24c"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("https://b\u00fccher.de/\u00fc", "https://xn--bcher-kva.de/%C3%BC"),
        ("javascript:alert(1)", None),
        ("JavaScript:alert(1)", None),
        ("java\nscript:alert(1)", None),
        ("data:text/html,<script>x</script>", None),
        ("file:///etc/passwd", None),
        ("ftp://example.org/x", None),
        ("/relative/path", None),
        ("relative.html", None),
        ("//evil.example/x", None),
        ("https://", None),
        ("https://user:pw@evil.example", None),
        ("https:\\\\evil.example", None),
        ("https://x.example:99999/", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url(url, safe):
    assert safe_url(url) == safe


def test_unsafe_url_is_left_out_and_a_doi_is_preferred():
    c = cit(title="T", authors=["Amy King"], year=2022, container="J", url="javascript:alert(1)")
    assert reference(c) == "King, Amy. 2022. \u201cT.\u201d *J*."
    c.doi = "doi:10.1162/jcws_a_01083"
    assert reference(c).endswith("*J*. https://doi.org/10.1162/jcws_a_01083.")
    c.doi = "not a doi"
    assert reference(c) == "King, Amy. 2022. \u201cT.\u201d *J*."


def test_markdown_style_makes_document_text_literal():
    c = cit(
        title="A *bold* [link](javascript:alert(1)) <script>x</script> see https://evil.example or www.evil.example",
        authors=["Amy_King"],
        year=2022,
        container="J $x$ | ~y~",
        source_type="journal article",
    )
    assert reference(c) == (
        "Amy\\_King. 2022. \u201cA \\*bold\\* link (javascript:alert(1)) x see https\\://evil.example or "
        "www\\.evil.example.\u201d *J \\$x\\$ \\| \\~y\\~*."
    )
    # Plain keeps the words (tags and links are still spelled out as text, never markup).
    assert reference(c, "plain") == (
        "Amy_King. 2022. \u201cA *bold* link (javascript:alert(1)) x see https://evil.example or "
        "www.evil.example.\u201d J $x$ | ~y~."
    )


def test_an_entry_cannot_open_a_markdown_block():
    assert reference({"title": "# Heading", "authors": []}) == "\\# Heading. n.d."
    assert reference({"title": "1984. Notes"}) == "1984\\. Notes. n.d."


# ------------------------------------------------------------------ bibliography and the answer chain


def test_bibliography_sorts_by_first_word_and_keeps_one_entry_a_document():
    a = cit(doc_id="a", title="Zeta", authors=["Amy King"], year=2022, source_type="book")
    b = cit(doc_id="b", title="\u201cAlpha\u201d notes", year=2000, source_type="book")
    # The leading quote mark is not what the entry is filed under.
    assert bibliography([a, b, a]) == ["\u201cAlpha\u201d notes. 2000.", "King, Amy. 2022. *Zeta*."]
    assert bibliography_entry(a) == reference(a)
    assert bibliography([a], "plain") == ["King, Amy. 2022. Zeta."]


def test_citation_from_passage_metadata_carries_the_full_reference():
    """What ingest writes on a chunk (ingest.pipeline._chunk_metadata) reaches the reference."""
    from rag.answering.extractive import citation

    meta = {
        "doc_id": "king-muminov-2022", "title": KM_TITLE, "authors": "Amy King; Sherzod Muminov", "year": 2022,
        "container": "Journal of Cold War Studies", "volume": "24", "issue": 3, "pages": "200\u2013230",
        "doi": "10.1162/jcws_a_01083", "source_type": "journal article (abstract)", "page": 203,
    }
    p = Passage(chunk_id="km::00001", doc_id="king-muminov-2022", text="t", page=203, metadata=meta)
    c = citation(1, p, ["A quote."], 0.5)
    assert (c.volume, c.issue, c.pages, c.doi, c.source_type) == ("24", "3", "200\u2013230", "10.1162/jcws_a_01083",
                                                                 "journal article (abstract)")
    assert c.url == "https://doi.org/10.1162/jcws_a_01083" and c.page == 203
    assert reference(c) == f"{KM_HEAD} *Journal of Cold War Studies* 24 (3): 200\u2013230. https://doi.org/10.1162/jcws_a_01083."
    # A chunk from before these fields existed still makes a citation.
    old = citation(1, Passage(chunk_id="x", doc_id="x", text="t", metadata={"title": "Old"}), "Q.", 0.1)
    assert (old.volume, old.pages, old.doi, old.source_type) == (None, None, None, None)
