"""Question files: good lines parsed, bad lines reported with their numbers and skipped."""

from __future__ import annotations

import json

import pytest

from rag.evaluation.questions import Question, load_questions, parse_questions

LINES = [
    '{"id": "q1", "question": "How many Japanese were interned?", "must_include": ["575,000"], "gold_doc_ids": ["soviet-internment-labour"]}',
    "not json at all",
    '{"id": "q2"}',
    '{"id": "q3", "question": 5}',
    '{"id": "q1", "question": "The same id again?"}',
    "[1, 2, 3]",
    '{"id": "q4", "question": "Answerable?", "answerable": "maybe"}',
    '{"id": "q5", "question": "   "}',
    "",
    "// a comment line",
    '{"id": 7, "question": "An integer id?", "answerable": false}',
    '{"id": "q8", "question": "List?", "must_include": "575,000"}',
    '{"id": "q9", "question": "And in China?", "history": ["How many in the USSR?"], "extra_field": 1}',
    '{"id": "q10", "question": "Trailing comma?",}',
    '   {"id": "q11", "question": "Indented line?"}   ',
]


@pytest.fixture(scope="module")
def parsed():
    return parse_questions(LINES, "dev.jsonl")


def test_good_lines_are_parsed(parsed):
    questions, _ = parsed
    assert [q.id for q in questions] == ["q1", "7", "q9", "q11"]
    q1, q7, q9, _ = questions
    assert q1.must_include == ["575,000"] and q1.answerable and q1.gold_doc_ids == ["soviet-internment-labour"]
    assert q7.answerable is False and q7.must_include == []
    assert q9.history == ["How many in the USSR?"]


def test_bad_lines_are_reported_with_line_numbers(parsed):
    _, errors = parsed
    by_line = {e.line: e.error for e in errors}
    assert sorted(by_line) == [2, 3, 4, 5, 6, 7, 8, 12, 14]
    assert all(err.startswith(f"dev.jsonl:{n}: ") for n, err in by_line.items())
    assert "invalid JSON" in by_line[2] and "invalid JSON" in by_line[14]
    assert "'question'" in by_line[3] and "required" in by_line[3].lower()
    assert "'question'" in by_line[4] and "string" in by_line[4]
    assert "duplicate id 'q1'" in by_line[5]
    assert "not a JSON object" in by_line[6]
    assert "'answerable'" in by_line[7]
    assert "'question'" in by_line[8] and "empty" in by_line[8]
    assert "'must_include'" in by_line[12]


def test_blank_and_comment_lines_are_neither_questions_nor_errors(parsed):
    _, errors = parsed
    assert {9, 10}.isdisjoint(e.line for e in errors)


def test_load_questions_reads_a_file(tmp_path):
    path = tmp_path / "qs.jsonl"
    path.write_text("\n".join([json.dumps({"id": "a", "question": "Q?"}), "oops"]) + "\n", encoding="utf-8")
    questions, errors = load_questions(path)
    assert [q.id for q in questions] == ["a"]
    assert [(e.line, e.error.split(":")[0]) for e in errors] == [(2, "qs.jsonl")]


def test_load_questions_missing_or_unreadable_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot read question file"):
        load_questions(tmp_path / "missing.jsonl")
    with pytest.raises(FileNotFoundError, match="cannot read question file"):
        load_questions(tmp_path)  # a folder
    bad = tmp_path / "latin1.jsonl"
    bad.write_bytes('{"id": "a", "question": "R\xe9gime?"}'.encode("latin-1"))
    with pytest.raises(FileNotFoundError, match="cannot read question file"):
        load_questions(bad)


def test_question_defaults():
    q = Question(id="x", question="Q?")
    assert q.answerable and q.must_include == [] and q.history == [] and q.gold_doc_ids == []


def test_shipped_dev_questions_parse_cleanly():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "eval" / "dev_questions.jsonl"
    questions, errors = load_questions(path)
    assert errors == []
    assert len(questions) > 50
    assert any(not q.answerable for q in questions)
