"""ui.export: the conversation as Markdown, ending with a Chicago author-date bibliography."""

from __future__ import annotations

from datetime import datetime

from rag.citing import bibliography
from rag.models import Answer, Citation
from ui.export import conversation_markdown, export_filename

KM = dict(
    doc_id="king-muminov-2022",
    title="Japan Still Has Cadres Remaining: Japanese in the USSR and China from World War II to Cold War, 1945\u20131956",
    authors=["Amy King", "Sherzod Muminov"],
    year=2022,
    container="Journal of Cold War Studies",
    volume="24",
    issue="3",
    pages="200\u2013230",
    doi="10.1162/jcws_a_01083",
    source_type="journal article",
)
NOTES = dict(
    doc_id="soviet-internment-labour",
    title="The Soviet internment of Japanese",
    authors=["cadres-qa editors"],
    year=2026,
    container="cadres-qa background notes",
    source_type="background notes",
    url="javascript:alert(document.cookie)",  # document metadata is untrusted: never a link
)


def answered() -> Answer:
    return Answer(
        question="How did the Soviet Union treat the Japanese internees?",
        answer="With neglect [1]. About 55,000 died [2].",
        citations=[
            Citation(n=1, chunk_id="a", page=203, quote="With neglect <script>x</script>.", **KM),
            Citation(n=2, chunk_id="b", quote="About 55,000 died ![x](http://e/x.png).", **NOTES),
        ],
    )


def refused() -> Answer:
    return Answer(
        question="Which team won baseball's 1956 Japan Series?",
        answer="The corpus does not answer this question. The closest sources are: X.",
        refused=True,
        closest_sources=["King and Muminov 2022 (Japan Still Has Cadres Remaining)"],
    )


def test_export_has_every_turn_and_ends_with_the_bibliography():
    now = datetime(2026, 1, 2, 3, 4)
    md = conversation_markdown([answered(), refused(), answered()], now=now)
    assert md.startswith("# cadres-qa conversation\n")
    assert "Exported 2026-01-02 03:04. 3 question(s)." in md
    assert "## 1. How did the Soviet Union treat the Japanese internees?" in md
    assert "## 2. Which team won baseball's 1956 Japan Series?" in md
    assert "With neglect [1]. About 55,000 died [2]." in md
    assert "1. King and Muminov 2022, p. 203 \u2014 *Japan Still Has Cadres Remaining" in md
    assert "Not answered by the corpus.** The corpus does not answer this question.\n" in md
    assert "Closest sources:\n\n- King and Muminov 2022 (Japan Still Has Cadres Remaining)" in md
    tail = md.split("## Bibliography", 1)[1]
    assert md.rstrip().rsplit("\n## ", 1)[1].startswith("Bibliography")
    # Chicago author-date, one entry per document, sorted: the full references of the source cards.
    entries = [ln for ln in tail.strip().splitlines() if ln]
    assert entries == bibliography(answered().citations)
    assert entries == [
        "cadres-qa editors. 2026. \u201cThe Soviet internment of Japanese.\u201d *cadres-qa background notes*.",
        "King, Amy, and Sherzod Muminov. 2022. \u201cJapan Still Has Cadres Remaining: Japanese in the USSR and China "
        "from World War II to Cold War, 1945\u20131956.\u201d *Journal of Cold War Studies* 24 (3): 200\u2013230. "
        "https://doi.org/10.1162/jcws_a_01083.",
    ]
    assert "javascript:" not in md


def test_export_makes_document_text_inert():
    md = conversation_markdown([answered()])
    assert "<script" not in md and "![x](" not in md


def test_export_of_an_empty_or_refusal_only_conversation():
    md = conversation_markdown([])
    assert md.rstrip().endswith("## Bibliography\n\nNo sources were cited.")
    md = conversation_markdown([refused()])
    assert md.rstrip().endswith("No sources were cited.")


def test_export_filename():
    assert export_filename(datetime(2026, 1, 2, 3, 4)) == "cadres-qa-20260102-0304.md"
