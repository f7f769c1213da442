"""A segment's postings, its round trip through disk, and merging."""

from __future__ import annotations

import numpy as np

from rag.lexical.segment import Segment


def build() -> Segment:
    return Segment.build(
        ids=["a", "b", "c"],
        sources=["s1", "s1", "s2"],
        doc_ids=["d1", "d1", "d2"],
        years=[1950, None, 1956],
        tokens=[["koan", "maru", "koan"], ["maru"], []],
    )


def test_postings_hold_rows_and_term_frequencies():
    s = build()
    rows, tf, dl = s.postings("koan")
    assert rows.tolist() == [0] and tf.tolist() == [2]
    rows, tf, dl = s.postings("maru")
    assert rows.tolist() == [0, 1] and tf.tolist() == [1, 1] and dl.tolist() == [3, 1]
    assert s.postings("absent") is None
    assert s.lengths.tolist() == [3, 1, 0]
    assert s.years.tolist() == [1950, 0, 1956]
    assert [s.sources[i] for i in s.source_idx] == ["s1", "s1", "s2"]


def test_round_trip_through_disk(tmp_path):
    s = build()
    s.save(tmp_path)
    t = Segment.load(tmp_path, s.name)
    assert t.ids == s.ids and t.vocab == s.vocab and t.sources == s.sources
    for a in ("indptr", "rows", "tf", "dl", "lengths", "years", "source_idx"):
        assert np.array_equal(np.asarray(getattr(t, a)), getattr(s, a)), a
    # Memory-mapped (shared between processes) yet plain ndarrays (no memmap hooks per slice).
    assert type(t.rows) is np.ndarray and isinstance(t.rows.base, np.memmap)
    assert not t.rows.flags.writeable
    assert not list(tmp_path.glob(".tmp-*"))


def test_merge_keeps_only_the_kept_rows():
    a = build()
    b = Segment.build(
        ids=["d"], sources=["s3"], doc_ids=["d3"], years=[1960], tokens=[["maru", "fushun"]]
    )
    m = Segment.merge([(a, np.array([True, False, True])), (b, np.array([True]))])
    assert m.ids == ["a", "c", "d"]
    assert m.doc_ids.tolist() == ["d1", "d2", "d3"]
    rows, tf, dl = m.postings("maru")
    assert rows.tolist() == [0, 2] and tf.tolist() == [1, 1] and dl.tolist() == [3, 2]
    assert m.postings("koan")[1].tolist() == [2]
    assert m.postings("fushun")[0].tolist() == [2]
    assert [m.sources[i] for i in m.source_idx] == ["s1", "s2", "s3"]
