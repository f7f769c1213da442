"""rag.evaluation.metrics on hand-made cases whose right answers are known."""

from __future__ import annotations

import pytest

from rag.evaluation import metrics as m

CHUNKS = [
    "The K\u014dan Maru reached Maizuru on 26 December 1956.",  # 1
    "About 575,000 Japanese were interned in the USSR.",  # 2
    "The Koan Maru carried 1,025 returnees.",  # 3
    "Nothing relevant here.",  # 4
]


@pytest.mark.parametrize(
    ("needles", "rank"),
    [
        (["Maizuru"], 1),
        (["575,000"], 2),
        (["Maizuru", "575,000"], 2),  # together in the top 2
        (["1,025", "575,000"], 3),  # split over chunks 2 and 3: top 3 is the first that holds both
        (["Koan Maru"], 1),  # folded: the macron spelling in chunk 1 counts
        (["k\u014dan maru", "1,025"], 3),
        (["Maizuru", "Maizuru"], 1),
        (["not there"], None),
        (["Maizuru", "not there"], None),
        ([], None),  # nothing to look for: no rank
    ],
)
def test_first_hit_rank(needles, rank):
    assert m.first_hit_rank(CHUNKS, needles) == rank


def test_first_hit_rank_ties_take_the_first_chunk():
    # Three chunks hold the needle equally well: the earliest one decides the rank.
    assert m.first_hit_rank(["a", "x needle", "needle", "needle"], ["needle"]) == 2


def test_first_hit_rank_of_an_empty_retrieval():
    assert m.first_hit_rank([], ["Maizuru"]) is None
    assert m.first_hit_rank([], []) is None


@pytest.mark.parametrize(
    ("rank", "k", "hit"),
    [(1, 1, True), (1, 5, True), (5, 5, True), (6, 5, False), (2, 1, False), (None, 10, False)],
)
def test_hit_at(rank, k, hit):
    assert m.hit_at(rank, k) is hit


@pytest.mark.parametrize(("rank", "rr"), [(1, 1.0), (2, 0.5), (4, 0.25), (10, 0.1), (None, 0.0)])
def test_reciprocal_rank(rank, rr):
    assert m.reciprocal_rank(rank) == pytest.approx(rr)


@pytest.mark.parametrize(
    ("retrieved", "gold", "k", "recall"),
    [
        (["a", "b", "c"], ["a"], 5, 1.0),
        (["a", "b", "c"], ["c"], 2, 0.0),  # outside the top k
        (["a", "b", "c"], ["a", "c"], 2, 0.5),
        (["a", "a", "b"], ["a", "b"], 3, 1.0),
        ([], ["a"], 5, 0.0),
        (["a"], [], 5, None),  # no gold documents: not measured
    ],
)
def test_doc_recall(retrieved, gold, k, recall):
    assert m.doc_recall(retrieved, gold, k) == recall


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("Internees were held until 1956 [1]. Many died [2].", 1.0),
        ("Internees were held until 1956 [1]. Many died. Some returned [3].", pytest.approx(2 / 3)),
        ("Internees were held until 1956. Many died.", 0.0),
        ("A single cited sentence [1].", 1.0),
        ("", 0.0),
    ],
)
def test_cited_sentence_share(text, share):
    assert m.cited_sentence_share(text) == share


def test_percentile_ignores_missing_values():
    assert m.percentile([10.0, None, 20.0, 30.0, 40.0], 50) == 25.0
    assert m.percentile([10.0, 20.0, 30.0, 40.0], 95) == 38.5  # linear interpolation
    assert m.percentile([7.0], 95) == 7.0
    assert m.percentile([], 50) is None
    assert m.percentile([None, None], 50) is None
    assert m.percentile([1.0, 2.0, 3.0], 0) == 1.0 and m.percentile([1.0, 2.0, 3.0], 100) == 3.0


def test_mean_ignores_missing_values():
    assert m.mean([1.0, None, 0.0]) == 0.5
    assert m.mean([1 / 3]) == 0.3333
    assert m.mean([]) is None and m.mean([None]) is None


def test_includes_all_folds():
    assert m.includes_all("The K\u014dan Maru \u2013 1956", ["koan maru", "KŌAN", "- 1956"])
    assert not m.includes_all("The Koan Maru", ["Hakusan"])
    assert m.includes_all("anything", [])
