"""ingest.chunking: sentence-aligned chunks that fit the model window, with offsets that map back."""

from __future__ import annotations

import json
import random

import pytest
from ingest_testlib import (
    JA_TEXT,
    chunks_of,
    doc_text,
    prose,
    sentence_rows,
    settings_at,
    stored_chunks,
    write,
)

from ingest.chunking import chunk_pages
from ingest.pipeline import embed_text
from rag.chunk_schema import document_meta_of
from rag.text import split_sentences

LONG_TITLE = (
    "A very long title about Japanese prisoners of war, civilian internees and settlers in the Soviet "
    "Union and China between 1945 and 1956 and their repatriation"
)
_WORDS = ["prisoners", "camps", "railway", "winter", "Khabarovsk", "timber", "and", "the", "of"]
_rnd = random.Random(7)
LONG_SENTENCE = " ".join(_rnd.choice(_WORDS) for _ in range(600))  # ~600 word pieces, no period


def _chunk(text, embedder, size=40, overlap=0, pages=None, reserve=0):
    pages = pages or [(None, 0, len(text))]
    return chunk_pages(text, pages, "doc", embedder, size, overlap, reserve)


def _sentence_bounds(text):
    spans = split_sentences(text)
    return {s.start for s in spans}, {s.end for s in spans}


# --------------------------------------------------------------------------- unit (real tokenizer)


def test_chunks_are_whole_sentences(embedder):
    text = prose(30, seed=1)
    starts, ends = _sentence_bounds(text)
    chunks = _chunk(text, embedder, size=40)
    assert len(chunks) > 5
    for c in chunks:
        assert c.start in starts and c.end in ends
        assert c.text.endswith(".")
        assert c.text[0].isupper()
        assert c.tokens <= 40
        assert c.tokens == embedder.count_tokens([c.text])[0]


def test_chunk_ids_and_indexes(embedder):
    chunks = _chunk(prose(30, seed=1), embedder, size=40)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert [c.chunk_id for c in chunks] == [f"doc::{i:05d}" for i in range(len(chunks))]


def test_no_overlap_when_zero(embedder):
    chunks = _chunk(prose(30, seed=2), embedder, size=40, overlap=0)
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.start > a.end


@pytest.mark.parametrize("overlap", [12, 20])
def test_overlap_is_whole_sentences_within_budget(embedder, overlap):
    text = prose(30, seed=2)
    chunks = _chunk(text, embedder, size=40, overlap=overlap)
    no_overlap = _chunk(text, embedder, size=40, overlap=0)
    assert len(chunks) > len(no_overlap)
    shared_pairs = 0
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert a.start < b.start <= a.end + 1
        if b.start < a.end:
            shared_pairs += 1
            shared = text[b.start : a.end]
            assert shared == text[b.start : a.end].strip()
            assert embedder.count_tokens([shared])[0] <= overlap
        else:
            # No overlap only when even the last sentence alone is over the overlap budget.
            last = a.sentences[-1].text
            assert len(a.sentences) == 1 or embedder.count_tokens([last])[0] > overlap
    assert shared_pairs >= len(chunks) // 3


def test_chunks_cover_all_text(embedder):
    text = prose(25, seed=3) + "\n\n" + prose(5, seed=4)
    chunks = _chunk(text, embedder, size=40, overlap=10)
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    missing = [i for i, ch in enumerate(text) if not ch.isspace() and i not in covered]
    assert missing == []


def test_chunks_never_cross_pages(embedder):
    p1, p2 = prose(8, seed=5), prose(8, seed=6)
    text = p1 + "\n\n" + p2
    pages = [(1, 0, len(p1)), (2, len(p1) + 2, len(text))]
    chunks = _chunk(text, embedder, size=40, overlap=10, pages=pages)
    assert {c.page for c in chunks} == {1, 2}
    for c in chunks:
        _, ps, pe = pages[c.page - 1]
        assert ps <= c.start < c.end <= pe


def test_reserve_shrinks_the_budget(embedder):
    text = prose(40, seed=8)
    chunks = _chunk(text, embedder, size=512, reserve=100)
    assert max(c.tokens for c in chunks) <= embedder.max_tokens - 100


def test_single_long_sentence_is_split_to_fit(embedder):
    assert "." not in LONG_SENTENCE
    chunks = _chunk(LONG_SENTENCE, embedder, size=200, overlap=40)
    assert len(chunks) >= 3
    for c in chunks:
        assert c.tokens <= 200
        assert c.text == LONG_SENTENCE[c.start : c.end]
        assert c.text == c.text.strip()
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered for i, ch in enumerate(LONG_SENTENCE) if not ch.isspace())


def test_japanese_chunks_end_at_sentence_boundaries(embedder):
    text = JA_TEXT * 5  # 20 sentences, ~17 word pieces each
    chunks = _chunk(text, embedder, size=48, overlap=0)
    assert len(chunks) > 1
    assert [c.text[-1] for c in chunks] == ["。"] * len(chunks)


def test_split_long_pieces_never_exceed_chunk_tokens(embedder):
    rnd = random.Random(0)
    text = " ".join(
        "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(3, 12)))
        for _ in range(600)
    )
    chunks = _chunk(text, embedder, size=200, overlap=40)
    assert max(c.tokens for c in chunks) <= 200


# --------------------------------------------------------------------------- through the pipeline


@pytest.fixture(scope="module")
def big_docs(tmp_path_factory):
    """Documents where size matters, chunked at the model window (chunk_tokens=512 > 254)."""
    from ingest import ingest_paths
    from rag.store import forget_client

    base = tmp_path_factory.mktemp("bigdocs")
    root = base / "docs"
    body = "\n\n".join(prose(12, seed=s) for s in range(8))  # ~100 sentences in 8 paragraphs
    write(root / "long-title.md", f"---\ntitle: {LONG_TITLE}\n---\n{body}\n")
    write(root / "long-sentence.txt", LONG_SENTENCE)
    settings = settings_at(base / "data", chunk_tokens=512, chunk_overlap_tokens=40)
    report = ingest_paths([root], settings, progress=False)
    assert report.files_failed == []
    yield settings, root
    forget_client(settings)


def test_no_stored_chunk_exceeds_the_model_window(big_docs, embedder):
    settings, root = big_docs
    for name in ("long-title.md", "long-sentence.txt"):
        rows = chunks_of(settings, root / name)
        assert len(rows) >= 2
        texts = [t for _, t, _ in rows]
        with_prefix = [embed_text(document_meta_of(m), t) for _, t, m in rows]
        assert max(embedder.count_tokens(texts)) <= embedder.max_tokens
        assert max(embedder.count_tokens(with_prefix)) <= embedder.max_tokens, name
        assert embedder.max_tokens == 254


def test_long_title_prefix_is_taken_into_account(big_docs, embedder):
    settings, root = big_docs
    rows = chunks_of(settings, root / "long-title.md")
    prefix = embed_text(document_meta_of(rows[0][2]), "").rstrip("\n")
    assert prefix.split() == LONG_TITLE.split()[:14]
    reserve = embedder.count_tokens([prefix])[0]
    # Chunks are filled close to the window minus the title prefix, not merely under 512.
    assert max(m["tokens"] for _, _, m in rows) > embedder.max_tokens - reserve - 40


def test_stored_offsets_map_back_to_cleaned_text(big_docs, formats_corpus):
    cases = [(big_docs[0], big_docs[1] / n) for n in ("long-title.md", "long-sentence.txt")]
    cases += [
        (formats_corpus.settings, p)
        for p in formats_corpus.root.iterdir()
        if ".meta." not in p.name
    ]
    for settings, path in cases:
        text = doc_text(path)
        rows = chunks_of(settings, path)
        assert rows, path
        for cid, chunk, m in rows:
            assert text[m["char_start"] : m["char_end"]] == chunk, (path.name, cid)


def test_chunk_metadata_fields(big_docs, embedder):
    settings, root = big_docs
    rows = chunks_of(settings, root / "long-title.md")
    assert [m["chunk_index"] for _, _, m in rows] == list(range(len(rows)))
    for cid, text, m in rows:
        assert cid == f"{m['doc_id']}::{m['chunk_index']:05d}"
        assert m["doc_id"] == "long-title"
        assert m["source"] == (root / "long-title.md").resolve().as_posix()
        assert "page" not in m  # text files have no pages
        assert m["tokens"] == embedder.count_tokens([text])[0]
        for s, e in json.loads(m["sentences"]):
            assert 0 <= s < e <= len(text)


def test_stored_chunks_end_at_sentence_boundaries(big_docs):
    settings, root = big_docs
    rows = chunks_of(settings, root / "long-title.md")
    for _, text, _ in rows:
        assert text.endswith("."), text[-40:]
        assert text[0].isupper()


def test_overlap_between_stored_chunks(big_docs, embedder):
    settings, root = big_docs
    rows = chunks_of(settings, root / "long-title.md")
    shared = 0
    for (_, _, a), (_, _, b) in zip(rows, rows[1:], strict=False):
        if b["char_start"] < a["char_end"]:
            shared += 1
            text = doc_text(root / "long-title.md")[b["char_start"] : a["char_end"]]
            assert embedder.count_tokens([text])[0] <= 40
    assert shared >= 1


def test_sentence_rows_map_into_their_chunks(big_docs):
    settings, _ = big_docs
    chunks = stored_chunks(settings)
    sents = sentence_rows(settings)
    assert len(sents) > len(chunks)
    for sid, (stext, sm) in sents.items():
        cid = sm["chunk_id"]
        assert sid.startswith(cid + "::s")
        ctext, cm = chunks[cid]
        assert ctext[sm["start"] : sm["end"]] == stext
        assert sm["doc_id"] == cm["doc_id"] and sm["source"] == cm["source"]


def test_window_never_exceeded_for_word_fragments(make_settings, tmp_path, embedder):
    from ingest import ingest_paths

    rnd = random.Random(1070)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    text = " ".join(
        "".join(rnd.choice(alphabet) for _ in range(rnd.randint(5, 25))) for _ in range(90)
    )
    path = write(tmp_path / "docs" / "long-sentence.txt", text)
    settings = make_settings(chunk_tokens=512, chunk_overlap_tokens=40)
    assert ingest_paths([path.parent], settings, progress=False).files_failed == []
    rows = chunks_of(settings, path)
    counts = embedder.count_tokens([embed_text(document_meta_of(m), t) for _, t, m in rows])
    assert max(counts) <= embedder.max_tokens


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("The republic was suppressed A.D. 1475. Then came more.", 2),
        ("Such was Piligrinus, the first missionary, A.D. 973. Next came others.", 2),
        ("It fell in 1200 B.C. The next age began.", 2),
        ("At 3 p.m. 40 ships left. They sailed north.", 2),
    ],
)
def test_a_dotted_abbreviation_before_a_number_does_not_end_the_sentence(text, sentences):
    """"A.D. 1475" is one date: split after "A.D." the year stands alone and the answer is lost."""
    assert len(split_sentences(text)) == sentences
