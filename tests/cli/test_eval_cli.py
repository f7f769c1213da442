"""`python -m rag eval` end to end on a small question file against the shared corpus store."""

from __future__ import annotations

import json

import pytest

from .clirun import run_module

QUESTIONS = [
    json.dumps({"id": "c1", "question": "How many Japanese were interned in the Soviet Union?",
                "must_include": ["575,000"], "gold_doc_ids": ["soviet-internment-labour"]}),
    json.dumps({"id": "c2", "question": "When did the K\u014dan Maru reach Maizuru on its last voyage from Nakhodka?",
                "must_include": ["26 December 1956"], "gold_doc_ids": ["soviet-japanese-joint-declaration-1956"]}),
    '{"id": "c3", "question": }',
    json.dumps({"id": "c4", "question": "How many Japanese prisoners did France hold in Indochina?",
                "answerable": False}),
    json.dumps({"id": "c5", "question": "Who led the Tonghua uprising of February 1946?",
                "must_include": ["Fujita"], "gold_doc_ids": ["northeast-china-and-huludao"]}),
]
PLOTS = ("hit_at_k.png", "latency.png", "by_document.png")


@pytest.fixture(scope="module")
def question_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("eval-cli") / "questions.jsonl"
    path.write_text("\n".join(QUESTIONS) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def first_run(corpus_settings, question_file):
    out = question_file.parent / "out"
    proc = run_module("eval", question_file, "--out", out, "--json", CADRES_DATA_DIR=corpus_settings.data_dir)
    return proc, out


@pytest.fixture(scope="module")
def compare_run(corpus_settings, question_file, first_run):
    _, out = first_run
    return run_module("eval", question_file, "--compare", out / "report.json", "--min-hit5", "1.01", "--json",
                      CADRES_DATA_DIR=corpus_settings.data_dir)


def test_eval_writes_outputs_and_prints_the_summary(first_run):
    proc, out = first_run
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["questions"] == 4 and summary["answerable"] == 3 and summary["unanswerable"] == 1
    assert summary["malformed_lines"] == 1 and summary["k"] == 5
    assert set(summary["hit_at"]) == {"1", "3", "5", "10"}
    for key in ("mrr", "coverage", "refusal_rate", "false_refusal_rate", "citation_verbatim", "latency_ms"):
        assert key in summary
    assert summary["citation_verbatim"] in (None, 1.0)
    assert "skipped: questions.jsonl:3: invalid JSON" in proc.stderr
    assert "wrote " in proc.stderr

    for name in ("report.json", "report.md", *PLOTS):
        assert (out / name).stat().st_size > 0, name
    for name in PLOTS:
        assert (out / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert not (out / "compare.json").exists()
    report = json.loads((out / "report.json").read_text())
    assert [r["id"] for r in report["rows"]] == ["c1", "c2", "c4", "c5"]
    assert report["summary"] == summary
    assert [e["line"] for e in report["errors"]] == [3]
    assert report["mode"] == "extractive"
    c4 = next(r for r in report["rows"] if r["id"] == "c4")
    assert c4["answerable"] is False
    assert all(len(r["retrieved"]) == 10 for r in report["rows"])


def test_failing_threshold_exits_1_naming_the_metric(compare_run):
    proc = compare_run
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "cadres: error: threshold missed: hit@5" in proc.stderr
    assert "< 1.01" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_compare_prints_deltas(compare_run):
    out = compare_run.stderr  # with --json the table goes to stderr, so stdout stays JSON
    assert "| metric | old | new | delta |" in out
    assert "| questions | 4 | 4 | +0 |" in out
    assert "| hit_at.5 |" in out and "| mrr |" in out


def test_json_output_stays_json_with_compare(compare_run):
    json.loads(compare_run.stdout)


def test_missing_question_file_is_a_clear_error(tmp_path, corpus_settings):
    proc = run_module("eval", tmp_path / "nope.jsonl", CADRES_DATA_DIR=corpus_settings.data_dir)
    assert proc.returncode == 1
    assert proc.stderr.startswith("cadres: error: ")
    assert "nope.jsonl: cannot read question file" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_unreadable_compare_report_is_a_clear_error(tmp_path, question_file, corpus_settings):
    bad = tmp_path / "old.json"
    bad.write_text("{not a report", encoding="utf-8")
    proc = run_module("eval", question_file, "--compare", bad, CADRES_DATA_DIR=corpus_settings.data_dir)
    assert proc.returncode == 1
    assert f"cadres: error: --compare {bad}: not a readable report.json" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_eval_k_0_is_a_usage_error(question_file, corpus_settings):
    proc = run_module("eval", question_file, "--k", "0", CADRES_DATA_DIR=corpus_settings.data_dir)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines()[-1] == "cadres eval: error: argument --k: must be between 1 and 50, got 0"
    assert "Traceback" not in proc.stderr and proc.stdout == ""
