"""`cadres ask` end to end against the shared corpus store."""

from __future__ import annotations

import json

import pytest

from .clirun import run_cadres

KM_QUESTION = (
    "According to King and Muminov, roughly how many Japanese were left stranded across the former "
    "empire after Japan surrendered in 1945?"
)


def test_ask_json_prints_an_answer(corpus_settings):
    proc = run_cadres("ask", KM_QUESTION, "--json", CADRES_DATA_DIR=corpus_settings.data_dir)
    assert proc.returncode == 0, proc.stderr
    ans = json.loads(proc.stdout)
    assert {"answer", "citations", "refused", "mode", "timings_ms"} <= set(ans)
    assert ans["mode"] == "extractive" and ans["refused"] is False
    assert ans["question"] == KM_QUESTION
    assert ans["citations"] and [c["n"] for c in ans["citations"]] == list(range(1, len(ans["citations"]) + 1))
    for c in ans["citations"]:
        assert {"n", "doc_id", "chunk_id", "title", "quote"} <= set(c)
        assert f"[{c['n']}]" in ans["answer"]
    assert "king-muminov-2022" in {c["doc_id"] for c in ans["citations"]}
    assert {"retrieve", "answer", "total"} <= set(ans["timings_ms"])


def test_ask_plain_prints_sources(corpus_settings):
    proc = run_cadres("ask", KM_QUESTION, CADRES_DATA_DIR=corpus_settings.data_dir)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    answer, _, sources = out.partition("\nSources:\n")
    assert sources, out
    assert "[1]" in answer
    assert "  [1] " in sources
    assert "King and Muminov 2022" in sources
    assert "\u201c" in sources  # quotes are printed


def test_ask_empty_question_is_a_clear_error(corpus_settings):
    proc = run_cadres("ask", "  ", CADRES_DATA_DIR=corpus_settings.data_dir)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "cadres: error: question: must not be empty"
    assert "Traceback" not in proc.stderr and proc.stdout == ""


@pytest.mark.parametrize(("k", "why"), [("0", "between 1 and 50, got 0"), ("51", "between 1 and 50, got 51"),
                                        ("five", "a whole number from 1 to 50, got 'five'")])
def test_ask_k_out_of_range_is_a_usage_error(corpus_settings, k, why):
    proc = run_cadres("ask", KM_QUESTION, "--k", k, CADRES_DATA_DIR=corpus_settings.data_dir)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines()[-1] == f"cadres ask: error: argument --k: must be {why}"
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_ask_with_a_missing_embedding_model_says_so_once(corpus_settings, tmp_path):
    """The store was built with the real model: before, this surfaced as a model mismatch."""
    missing = tmp_path / "no-such-model"
    proc = run_cadres("ask", KM_QUESTION, CADRES_DATA_DIR=corpus_settings.data_dir, CADRES_EMBEDDING_MODEL=missing)
    assert proc.returncode == 1
    assert proc.stderr == (
        f"cadres: error: embedding model not found at {missing}; "
        "set CADRES_EMBEDDING_MODEL to a sentence-transformers folder\n"
    )
    assert proc.stdout == ""
