"""ui.pdf_pages: the cited PDF page as a PNG, the quote highlighted where it stands and nowhere else.

The PDFs are drawn here with reportlab, each line at a known place, so a line's box on the rendered
page follows from its coordinates alone (not from the code under test).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from reportlab.lib.pagesizes import letter
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from tests.ingest.ingest_testlib import encrypted_pdf, make_pdf
from ui import pdf_pages as P
from ui.pdf_pages import HIGHLIGHT_RGB, PageImage, PageRenderError, pages_for_quote, render_page

REPO = Path(__file__).resolve().parents[2]

PAGE_W, PAGE_H = letter
WIDTH = 900
SCALE = WIDTH / PAGE_W
FONT, SIZE = "Helvetica", 11

# One line: (x, baseline y, text[, font size]) in PDF points.
Line = tuple


def draw(path: Path, pages: list[list[Line]], rotate: int = 0) -> Path:
    c = canvas.Canvas(str(path), pagesize=letter)
    for lines in pages:
        if rotate:
            c.setPageRotation(rotate)
        for x, y, text, *size in lines:
            c.setFont(FONT, size[0] if size else SIZE)
            c.drawString(x, y, text)
        c.showPage()
    c.save()
    return path


def box(line: Line, upto: str | None = None) -> tuple[int, int, int, int]:
    """Pixel box (left, top, right, bottom) of a line's text (or of its first words, `upto`)."""
    x, y, text, *size = line
    s = size[0] if size else SIZE
    w = stringWidth(upto if upto is not None else text, FONT, s)
    return int(x * SCALE), int((PAGE_H - y - 0.8 * s) * SCALE), int((x + w) * SCALE), int((PAGE_H - y + 0.25 * s) * SCALE)


def pixels(img: PageImage) -> np.ndarray:
    return np.asarray(Image.open(img.path).convert("RGB")).astype(int)


def amber(arr: np.ndarray) -> np.ndarray:
    return (np.abs(arr - np.array(HIGHLIGHT_RGB)) <= 12).all(axis=-1)


def ink(arr: np.ndarray) -> np.ndarray:
    return arr.sum(axis=-1) < 200  # glyph pixels, dark with or without the highlight


def inside(mask: np.ndarray, b: tuple[int, int, int, int], grow: int = 0) -> int:
    left, top, right, bottom = b
    return int(mask[max(0, top - grow) : bottom + grow, max(0, left - grow) : right + grow].sum())


def outside(mask: np.ndarray, *boxes: tuple[int, int, int, int], grow: int = 8) -> int:
    m = mask.copy()
    for left, top, right, bottom in boxes:
        m[max(0, top - grow) : bottom + grow, max(0, left - grow) : right + grow] = False
    return int(m.sum())


def area(b: tuple[int, int, int, int]) -> int:
    return (b[2] - b[0]) * (b[3] - b[1])


# ------------------------------------------------------------------ one page

DALIAN = (72, 700, "Report on the port of Dalian, written in the spring of 1947.")
SHIPS = (72, 680, "Ships left for Japan every week in 1947.")
ARTHUR = (72, 660, "Soviet forces stayed in Port Arthur until 1955.")


@pytest.fixture
def one_page(tmp_path) -> Path:
    return draw(tmp_path / "dalian.pdf", [[DALIAN, SHIPS, ARTHUR]])


def test_the_quote_is_highlighted_where_it_stands_and_nowhere_else(one_page, tmp_path):
    img = render_page(one_page, 1, [SHIPS[2]], tmp_path / "cache")
    assert img.path.is_file() and img.path.parent == tmp_path / "cache" and img.path.suffix == ".png"
    assert (img.page, img.found, img.cached) == (1, [SHIPS[2]], False)
    arr = pixels(img)
    assert arr.shape[1] == WIDTH == img.width and arr.shape[0] == img.height
    hl = amber(arr)
    assert inside(hl, box(SHIPS)) > 0.3 * area(box(SHIPS))
    assert inside(hl, box(DALIAN)) == 0 and inside(hl, box(ARTHUR)) == 0
    assert outside(hl, box(SHIPS)) == 0
    # A highlighter, not paint: the quoted words are still dark on the amber.
    assert inside(ink(arr), box(SHIPS)) > 0.05 * area(box(SHIPS))


def test_a_quote_not_on_the_page_highlights_nothing(one_page, tmp_path):
    img = render_page(one_page, 1, ["Nothing like this sentence is printed there."], tmp_path)
    assert img.found == [] and img.path.is_file()
    assert amber(pixels(img)).sum() == 0
    assert inside(ink(pixels(img)), box(SHIPS)) > 0  # the page itself is drawn


def test_several_quotes_and_a_near_match(tmp_path):
    """A footnote number on the page that ingest dropped from the quote ("men3") still matches."""
    camp = (72, 640, "The camp held 500 men3 and closed in 1950.")
    pdf = draw(tmp_path / "camp.pdf", [[DALIAN, SHIPS, ARTHUR, camp]])
    img = render_page(pdf, 1, [ARTHUR[2], "The camp held 500 men and closed in 1950."], tmp_path)
    assert img.found == [ARTHUR[2], "The camp held 500 men and closed in 1950."]
    hl = amber(pixels(img))
    assert inside(hl, box(ARTHUR)) > 0.3 * area(box(ARTHUR)) and inside(hl, box(camp)) > 0.3 * area(box(camp))
    assert outside(hl, box(ARTHUR), box(camp)) == 0


def test_the_quote_as_ingest_cleaned_it_across_a_hyphenated_line_break(tmp_path):
    from ingest.loaders import load_file
    from rag.text import split_sentences

    first = (72, 700, "The prisoners were sent to camps in Siberia, where the inter-")
    second = (72, 686, "nees worked in forests and mines until 1949. They went home.")
    pdf = draw(tmp_path / "siberia.pdf", [[first, second]])
    (_, text), = load_file(pdf).pages
    quote = split_sentences(text)[0].text
    assert "the internees worked" in quote  # ingest mended the hyphenation
    img = render_page(pdf, 1, [quote], tmp_path)
    assert img.found == [quote]
    hl = amber(pixels(img))
    rest = box(second, upto="nees worked in forests and mines until 1949.")
    assert inside(hl, box(first)) > 0.3 * area(box(first)) and inside(hl, rest) > 0.3 * area(rest)
    tail = box(second)
    assert inside(hl, (rest[2] + 8, tail[1], tail[2], tail[3])) == 0  # "They went home." is not quoted


def test_a_page_made_by_the_ingest_test_helpers(tmp_path):
    pdf = tmp_path / "dalian.pdf"
    pdf.write_bytes(make_pdf([["Report on the port of Dalian.", "Ships left for Japan every week in 1947."],
                              ["The second page covers Port Arthur.", "Soviet forces stayed there until 1955."]]))
    img = render_page(pdf, 2, ["Soviet forces stayed there until 1955."], tmp_path)
    assert img.found == ["Soviet forces stayed there until 1955."]
    hl = amber(pixels(img))
    quoted = box((72, 740 - 14, "Soviet forces stayed there until 1955."))  # make_pdf: 72 740 Td, 14 TL
    assert inside(hl, quoted) > 0.3 * area(quoted)
    assert outside(hl, quoted) == 0
    assert pages_for_quote(pdf, 2, "Soviet forces stayed there until 1955.") == [2]


def test_a_rotated_page_is_highlighted_on_the_rotated_text(tmp_path):
    """/Rotate 90 turns the lines into columns, the page's top to the right: the quote is the left one.

    (reportlab's setPageRotation also turns the MediaBox landscape, 792 x 612, shown upright.)"""
    pdf = draw(tmp_path / "rotated.pdf", [[(72, 400, "The first line is not quoted here."), (72, 360, "The second line is quoted.")]],
               rotate=90)
    img = render_page(pdf, 1, ["The second line is quoted."], tmp_path)
    arr = pixels(img)
    assert img.found == ["The second line is quoted."]
    assert arr.shape[1] == WIDTH and abs(arr.shape[0] - WIDTH * 792 / 612) < 2  # upright: portrait
    hl, dark = amber(arr), ink(arr)
    ys, xs = np.nonzero(hl)
    assert ys.max() - ys.min() > 3 * (xs.max() - xs.min())  # a tall, narrow highlight: a vertical line
    cols = np.nonzero(dark.any(axis=0))[0]
    left_col = cols[cols < cols.min() + (cols.max() - cols.min()) / 2]
    right_col = cols[cols > cols.min() + (cols.max() - cols.min()) / 2]
    assert xs.min() <= left_col.min() and xs.max() >= left_col.max()  # the quoted column is covered
    assert xs.max() < right_col.min()  # the other is not


# ------------------------------------------------------------------ a sentence over two pages

FILLER = [(72, 700 - 14 * i, f"Filler line {i} about the camps and the long winter in Khabarovsk.") for i in range(30)]
BOTTOM = (72, 90, "The last repatriation ships left Nakhodka for Maizuru in")
FOLIO = (300, 50, "12")
HEAD = (72, 750, "Journal of Repatriation Studies", 9)  # a running head in a smaller size
TOP = (72, 720, "December 1956, ending the Soviet internment. Other text follows here.")
NEXT = (72, 700, "A second paragraph that is not quoted at all.")
SENTENCE = "The last repatriation ships left Nakhodka for Maizuru in December 1956, ending the Soviet internment."
REST = "December 1956, ending the Soviet internment."


@pytest.fixture
def two_pages(tmp_path) -> Path:
    return draw(tmp_path / "return.pdf", [[*FILLER, BOTTOM, FOLIO], [HEAD, TOP, NEXT]])


def assert_page_two_highlights_the_rest(img: PageImage) -> None:
    hl = amber(pixels(img))
    rest = box(TOP, upto=REST)
    assert inside(hl, rest) > 0.3 * area(rest)
    assert outside(hl, rest) == 0  # neither the running head nor "Other text follows here."


def assert_page_one_highlights_the_bottom_line(img: PageImage) -> None:
    hl = amber(pixels(img))
    assert inside(hl, box(BOTTOM)) > 0.3 * area(box(BOTTOM))
    assert outside(hl, box(BOTTOM)) == 0  # no filler line, no page number


def test_a_whole_sentence_over_two_pages_is_highlighted_on_both(two_pages, tmp_path):
    assert pages_for_quote(two_pages, 1, SENTENCE) == [1, 2]
    p1, p2 = (render_page(two_pages, p, [SENTENCE], tmp_path) for p in (1, 2))
    assert p1.found == [SENTENCE] and p2.found == [SENTENCE]
    assert_page_one_highlights_the_bottom_line(p1)
    assert_page_two_highlights_the_rest(p2)


def test_the_first_part_as_ingest_stores_it_shows_the_rest_on_the_next_page(two_pages, tmp_path):
    """Ingest splits sentences per page: the answer quotes only the part on page 1, without a full stop."""
    from ingest.loaders import load_file
    from rag.text import split_sentences

    pages = dict(load_file(two_pages).pages)
    part = [s.text for s in split_sentences(pages[1]) if "Nakhodka" in s.text][0]
    assert part.startswith("The last repatriation ships") and not part.rstrip().endswith(".")
    assert pages_for_quote(two_pages, 1, part) == [1, 2]
    p1, p2 = (render_page(two_pages, p, [part], tmp_path) for p in (1, 2))
    assert p1.found == [part] and p2.found == [part]
    assert_page_one_highlights_the_bottom_line(p1)
    assert_page_two_highlights_the_rest(p2)


@pytest.mark.parametrize(
    ("page", "quote"),
    [
        (1, "Filler line 3 about the camps and the long winter in Khabarovsk."),  # ends its sentence
        (1, "Filler line 3 about the camps and the long winter"),  # unfinished, but not at the bottom
        (1, "A sentence found on neither page"),
        (2, REST),  # the last page
        (2, "A second paragraph that is not quoted"),
    ],
)
def test_other_quotes_show_their_page_only(two_pages, page, quote):
    assert pages_for_quote(two_pages, page, quote) == [page]


def test_a_quote_that_only_begins_like_a_line_of_the_page_is_not_highlighted(two_pages, tmp_path):
    quote = ("Filler line 3 about the camps and the long winter in Khabarovsk was not the subject of the report "
             "that the camp doctor wrote for the newspaper in 1948.")
    img = render_page(two_pages, 1, [quote], tmp_path)
    assert img.found == [] and amber(pixels(img)).sum() == 0


def test_the_next_page_alone_highlights_nothing_for_an_unrelated_quote(two_pages, tmp_path):
    img = render_page(two_pages, 2, ["Filler line 3 about the camps and the long winter"], tmp_path)
    assert img.found == [] and amber(pixels(img)).sum() == 0


# ------------------------------------------------------------------ cache


def test_a_second_call_is_served_from_the_cache(one_page, tmp_path, monkeypatch):
    cache = tmp_path / "data" / "page-cache"  # made when needed
    first = render_page(one_page, 1, [SHIPS[2]], cache)
    mtime = first.path.stat().st_mtime_ns

    def no_render(*a, **k):
        raise AssertionError("rendered again")

    monkeypatch.setattr(P, "_render", no_render)
    again = render_page(one_page, 1, [SHIPS[2]], cache)
    assert again.cached and again.path == first.path and again.found == first.found
    assert (again.width, again.height) == (first.width, first.height)
    assert again.path.stat().st_mtime_ns == mtime
    for changed in ([ARTHUR[2]], [SHIPS[2], ARTHUR[2]]):  # other quotes: another image
        with pytest.raises(AssertionError, match="rendered again"):
            render_page(one_page, 1, changed, cache)
    with pytest.raises(AssertionError, match="rendered again"):
        render_page(one_page, 1, [SHIPS[2]], cache, width_px=600)
    monkeypatch.undo()
    # A changed file is rendered anew, though its name is the same.
    draw(one_page, [[ARTHUR, SHIPS]])
    os.utime(one_page, ns=(mtime + 10**9, mtime + 10**9))
    fresh = render_page(one_page, 1, [SHIPS[2]], cache)
    assert not fresh.cached and fresh.path != first.path


def test_a_damaged_cache_entry_is_rendered_again(one_page, tmp_path):
    first = render_page(one_page, 1, [SHIPS[2]], tmp_path)
    first.path.with_suffix(".json").write_text("{not json")
    again = render_page(one_page, 1, [SHIPS[2]], tmp_path)
    assert not again.cached and again.found == [SHIPS[2]]


def test_the_cache_keeps_only_the_newest_pages(one_page, tmp_path, monkeypatch):
    monkeypatch.setattr(P, "MAX_CACHED_PAGES", 2)
    cache = tmp_path / "c"
    made = []
    for age, q in ((7200, DALIAN[2]), (3600, SHIPS[2]), (0, ARTHUR[2])):
        made.append(render_page(one_page, 1, [q], cache).path)
        if age:  # written long ago
            t = made[-1].stat().st_mtime - age
            os.utime(made[-1], (t, t))
    assert sorted(cache.glob("*.png")) == sorted(made[1:])
    assert sorted(cache.glob("*.json")) == sorted(p.with_suffix(".json") for p in made[1:])


def test_sessions_render_at_the_same_time(one_page, two_pages, tmp_path):
    """PDFium is not thread-safe; Streamlit sessions are threads."""
    errors: list[BaseException] = []

    def work(pdf: Path, page: int, quote: str) -> None:
        try:
            render_page(pdf, page, [quote], tmp_path / "t")
            pages_for_quote(pdf, page, quote)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    jobs = [(one_page, 1, SHIPS[2]), (two_pages, 1, SENTENCE), (two_pages, 2, REST), (one_page, 1, ARTHUR[2])]
    threads = [threading.Thread(target=work, args=j) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(list((tmp_path / "t").glob("*.png"))) == 4


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize("page", [0, -1, 3])
def test_a_page_out_of_range(two_pages, tmp_path, page):
    with pytest.raises(PageRenderError, match=rf"return\.pdf.*page {page}") as err:
        render_page(two_pages, page, [], tmp_path)
    assert err.value.page == page and err.value.path == two_pages
    with pytest.raises(PageRenderError, match=rf"return\.pdf.*page {page}"):
        pages_for_quote(two_pages, page, SENTENCE)
    assert not list(tmp_path.glob("*.png"))


def test_a_missing_or_corrupt_file(tmp_path):
    with pytest.raises(PageRenderError, match=r"gone\.pdf.*page 2"):
        render_page(tmp_path / "gone.pdf", 2, ["x"], tmp_path)
    with pytest.raises(PageRenderError, match=r"gone\.pdf.*page 2"):
        pages_for_quote(tmp_path / "gone.pdf", 2, "x")
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\nthis is not really a PDF\n")
    with pytest.raises(PageRenderError, match=r"bad\.pdf.*page 1"):
        render_page(bad, 1, ["x"], tmp_path)
    with pytest.raises(PageRenderError, match=r"bad\.pdf.*page 1"):
        pages_for_quote(bad, 1, "x")
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(encrypted_pdf())
    with pytest.raises(PageRenderError, match=r"locked\.pdf.*page 1.*password"):
        render_page(locked, 1, ["x"], tmp_path)
    assert not list(tmp_path.glob("*.png"))


def test_an_unreasonable_width(one_page, tmp_path):
    with pytest.raises(ValueError, match="width_px"):
        render_page(one_page, 1, [], tmp_path, width_px=20_000)


def test_importing_the_module_loads_no_renderer():
    code = (
        "import sys, ui.pdf_pages\n"
        "heavy = [m for m in ('pypdfium2', 'PIL', 'streamlit', 'numpy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
