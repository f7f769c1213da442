"""The offline (extractive) answerer on the shipped corpus: shape of answers, streaming, follow-ups,
refusals and question validation. Real model, real Chroma, no fakes."""

from __future__ import annotations

import re

import pytest

from rag.answering.extractive import MAX_SENTENCES, with_marker
from rag.answering.followup import combine_turns
from rag.assistant import QuestionError
from rag.citing import author_date
from rag.events import AnswerEvent, RetrievalEvent, TokenEvent
from rag.safety import has_markup

QUESTION = "How many Japanese were interned in the Soviet Union?"
MARKER = re.compile(r"\[(\d+)\]")
# Documents whose subject is the Japanese in China (not the USSR, not the comparison as a whole).
CHINA_DOCS = {
    "northeast-china-and-huludao",
    "repatriations-from-china-1953-1958",
    "retained-japanese-in-ccp-service",
    "fushun-and-taiyuan-detention-centres",
    "shenyang-taiyuan-trials-1956",
}


@pytest.fixture(scope="module")
def streamed(assistant):
    return list(assistant.stream(QUESTION))


@pytest.fixture(scope="module")
def answer(streamed):
    return streamed[-1].answer


def test_answer_is_cited_sentences_one_card_a_passage(answer):
    assert answer.mode == "extractive"
    assert not answer.refused, answer.answer
    assert 1 <= sum(len(c.quotes) for c in answer.citations) <= MAX_SENTENCES + 2  # with leaning sentences
    assert len({c.chunk_id for c in answer.citations}) == len(answer.citations)
    # The text is exactly the quotes, in order, each followed by its passage's marker.
    assert answer.answer == " ".join(with_marker(q, c.n) for c in answer.citations for q in c.quotes)
    assert all(c.quote == c.quotes[0] for c in answer.citations)
    assert answer.unsupported == []
    assert answer.query == QUESTION
    assert answer.closest_sources == []


def test_citations_are_numbered_in_order_of_appearance(answer):
    n = len(answer.citations)
    assert [c.n for c in answer.citations] == list(range(1, n + 1))
    assert list(dict.fromkeys(int(m) for m in MARKER.findall(answer.answer))) == list(range(1, n + 1))


def test_every_quote_is_verbatim_in_its_chunk_and_none_repeats(assistant, answer):
    chunks = assistant.chunk_texts([c.chunk_id for c in answer.citations])
    for c in answer.citations:
        for q in c.quotes:
            assert q in chunks[c.chunk_id], (c.n, c.chunk_id, q)
            assert not has_markup(q)
        assert c.doc_id == c.chunk_id.split("::")[0]
    quotes = [q for c in answer.citations for q in c.quotes]
    assert len(set(quotes)) == len(quotes), "a sentence is repeated"


def test_citation_metadata_comes_from_the_document(answer):
    km = [c for c in answer.citations if c.doc_id == "king-muminov-2022"]
    for c in km:
        assert c.authors == ["Amy King", "Sherzod Muminov"]
        assert c.year == 2022 and c.container == "Journal of Cold War Studies"
        assert c.label.startswith("King and Muminov 2022")
    for c in answer.citations:
        assert c.title and c.label == author_date(c.authors, c.year, c.page, c.title)


def test_timings_cover_retrieval_answering_and_total(answer):
    t = answer.timings_ms
    assert {"retrieve", "answer", "total"} <= set(t)
    assert all(v >= 0 for v in t.values())
    assert t["total"] >= t["answer"]
    assert t["total"] >= t["retrieve"]


def test_stream_yields_retrieval_then_the_whole_text_then_the_answer(streamed, answer):
    assert isinstance(streamed[0], RetrievalEvent)
    assert isinstance(streamed[-1], AnswerEvent)
    tokens = streamed[1:-1]
    # The extractive answer is composed whole: one piece, no fake word pieces.
    assert len(tokens) == 1 and isinstance(tokens[0], TokenEvent)
    assert tokens[0].text == answer.answer == streamed[-1].answer.answer
    retrieval = streamed[0]
    assert retrieval.query == QUESTION
    assert len(retrieval.passages) == 5
    cited = {c.chunk_id for c in answer.citations}
    assert cited <= {p.chunk_id for p in retrieval.passages}


def test_answer_sentences_are_statements_not_headings(answer):
    for c in answer.citations:
        assert not c.quote.rstrip().endswith("?"), c.quote


# ---------------------------------------------------------------- follow-ups
FOLLOW_UP = "And in China?"
HISTORY = ["How many Japanese were interned in the Soviet Union?"]


@pytest.fixture(scope="module")
def follow_up(assistant):
    events = list(assistant.stream(FOLLOW_UP, history=HISTORY))
    return events[0], events[-1].answer


def test_follow_up_query_combines_the_turns(follow_up):
    retrieval, ans = follow_up
    assert ans.question == FOLLOW_UP
    assert ans.query == combine_turns(FOLLOW_UP, HISTORY) == f"{HISTORY[0]} {FOLLOW_UP}"
    assert retrieval.query == ans.query
    assert any("China" in p.text or "CCP" in p.text for p in retrieval.passages)


def test_follow_up_retrieves_passages_about_china(follow_up):
    retrieval, _ = follow_up
    docs = [p.doc_id for p in retrieval.passages]
    assert CHINA_DOCS & set(docs), docs


def test_history_blank_entries_are_ignored(assistant):
    ans = assistant.ask(QUESTION, history=["", "   "])
    assert ans.query == QUESTION


# ---------------------------------------------------------------- refusals
# Off the corpus: its names and its subject are nowhere in it. (A near-topic question such as "How
# many Japanese prisoners did France hold in Indochina?" is what the multi-corpus gates of
# tests/quality measure; the verdict fitted on 2 December answers that one, see README "Quality".)
OFF_CORPUS = "How many penguins did France send to Antarctica?"


def test_refusal_names_the_closest_sources(assistant):
    events = list(assistant.stream(OFF_CORPUS))
    retrieval, ans = events[0], events[-1].answer
    assert ans.refused and ans.mode == "extractive"
    assert ans.citations == []
    assert ans.answer.startswith("The corpus does not answer this question")
    assert 1 <= len(ans.closest_sources) <= 3
    assert "The closest sources are: " + "; ".join(ans.closest_sources) + "." in ans.answer
    titles = {str(p.metadata.get("title")) for p in retrieval.passages}
    for label in ans.closest_sources:
        assert any(f"({t})" in label for t in titles), label
    assert len(set(ans.closest_sources)) == len(ans.closest_sources)


# ---------------------------------------------------------------- bad questions
@pytest.mark.parametrize("question", ["", "   \n\t ", None, 42])
def test_empty_or_non_text_question_is_rejected(assistant, question):
    with pytest.raises(QuestionError, match=r"^question: must not be empty"):
        assistant.ask(question)
    with pytest.raises(QuestionError, match=r"^question:"):
        list(assistant.stream(question))
    with pytest.raises(QuestionError, match=r"^question:"):
        assistant.retrieve(question)


def test_overlong_question_is_rejected_naming_the_field(assistant):
    limit = assistant.settings.max_question_chars
    long_q = ("How many Japanese were interned? " * 200)[:5000]
    assert len(long_q) == 5000 > limit
    with pytest.raises(QuestionError, match=rf"^question: longer than {limit} characters"):
        assistant.ask(long_q)
    with pytest.raises(QuestionError, match=r"^question:"):
        assistant.retrieve(long_q)
    assert isinstance(QuestionError("x"), ValueError)


@pytest.mark.parametrize("k", [51, -1, 1000])
def test_k_out_of_range_is_rejected_naming_the_field(assistant, k):
    with pytest.raises(QuestionError, match=r"^k: must be between 1 and 50"):
        assistant.ask(QUESTION, k=k)


def test_refusal_names_the_questions_own_words(assistant):
    ans = assistant.ask(OFF_CORPUS)
    assert ans.refused
    assert "\u201cFrance\u201d" in ans.answer or "\u201cIndochina\u201d" in ans.answer
    assert "franc," not in ans.answer and "\u201cfranc\u201d" not in ans.answer


def test_a_standalone_question_after_an_unrelated_one_is_answered_as_in_a_fresh_chat(assistant):
    q = "What happened to the Koan Maru?"
    fresh = assistant.ask(q)
    after = assistant.ask(q, history=[OFF_CORPUS])
    assert not fresh.refused
    assert (after.refused, after.answer, after.query) == (fresh.refused, fresh.answer, q)


def test_a_comparison_gets_both_sides(assistant):
    ans = assistant.ask("How did Soviet and Chinese Communist treatment of the Japanese differ?")
    assert not ans.refused
    assert "Soviet" in ans.answer and ("Chinese" in ans.answer or "CCP" in ans.answer)


def test_a_two_part_question_gets_both_parts(assistant):
    ans = assistant.ask("When was the Treaty of Portsmouth signed, and who mediated it?")
    assert "1905" in ans.answer and "Roosevelt" in ans.answer


@pytest.mark.parametrize(
    ("sentence", "marked"),
    [
        ("It was signed in 1905.", "It was signed in 1905 [2]."),
        ("Why was it signed?", "Why was it signed [2]?"),
        ("The launch is at 3:55 p.m.", "The launch is at 3:55 p.m. [2]"),  # the abbreviation keeps its stop
        ("They moved to the U.S.", "They moved to the U.S. [2]"),
        ("Salt, iron, furs, etc.", "Salt, iron, furs, etc. [2]"),
        ("It trails off...", "It trails off... [2]"),
        ("No stop at all", "No stop at all [2]"),
    ],
)
def test_the_marker_goes_before_the_final_stop_unless_it_ends_an_abbreviation(sentence, marked):
    assert with_marker(sentence, 2) == marked
