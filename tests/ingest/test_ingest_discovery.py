"""ingest.discovery: which files a run looks at, and which it refuses before reading them."""

from __future__ import annotations

import os
from pathlib import Path

from ingest_testlib import write

from ingest.discovery import discover


def _names(found) -> list[str]:
    return sorted(Path(f.path).name for f in found.files)


def test_walks_folders_recursively_and_keys_are_resolved_paths(tmp_path):
    root = tmp_path / "docs"
    write(root / "a.txt", "A.")
    write(root / "sub" / "deeper" / "b.md", "B.")
    d = discover([root])
    assert _names(d) == ["a.txt", "b.md"]
    assert {f.key for f in d.files} == {
        (root / "a.txt").resolve().as_posix(),
        (root / "sub" / "deeper" / "b.md").resolve().as_posix(),
    }
    assert d.roots == [root.resolve()]
    assert d.rejected == []


def test_hidden_files_hidden_dirs_and_sidecars_skipped(tmp_path):
    root = tmp_path / "docs"
    write(root / "a.txt", "A.")
    write(root / "a.txt.meta.yaml", "title: A\n")
    write(root / ".hidden.txt", "H.")
    write(root / ".git" / "config.txt", "G.")
    d = discover([root])
    assert _names(d) == ["a.txt"]


def test_cadresignore_patterns(tmp_path):
    root = tmp_path / "docs"
    write(root / ".cadresignore", "# comment\n*.log\ndrafts/*\n\n")
    write(root / "keep.txt", "K.")
    write(root / "debug.log", "L.")
    write(root / "drafts" / "d.txt", "D.")
    assert _names(discover([root])) == ["keep.txt"]


def test_unsupported_files_are_still_discovered(tmp_path):
    # They are refused later, with a reason, instead of silently skipped.
    root = tmp_path / "docs"
    write(root / "a.docx", b"PK")
    assert _names(discover([root])) == ["a.docx"]


def test_explicit_file_is_not_a_root(tmp_path):
    f = write(tmp_path / "one.txt", "One.")
    d = discover([f])
    assert _names(d) == ["one.txt"]
    assert d.roots == []


def test_missing_path_rejected(tmp_path):
    d = discover([tmp_path / "nope"])
    assert d.files == []
    assert d.rejected == [(str(tmp_path / "nope"), "no such file or folder")]


def test_symlinks_leading_outside_are_rejected_not_followed(tmp_path):
    root = tmp_path / "docs"
    outside = tmp_path / "outside"
    write(outside / "secret.txt", "Secret.")
    write(outside / "dir" / "more.txt", "More.")
    write(root / "a.txt", "A.")
    os.symlink(outside / "secret.txt", root / "link.txt")
    os.symlink(outside / "dir", root / "linkdir")
    d = discover([root])
    assert _names(d) == ["a.txt"]
    rejected = dict(d.rejected)
    assert set(rejected) == {str(root / "link.txt"), str(root / "linkdir")}
    assert all("symlink leads outside" in r for r in rejected.values())


def test_symlink_inside_the_root_is_deduplicated(tmp_path):
    root = tmp_path / "docs"
    write(root / "a.txt", "A.")
    os.symlink(root / "a.txt", root / "b-link.txt")
    d = discover([root])
    assert len(d.files) == 1
    assert d.files[0].key == (root / "a.txt").resolve().as_posix()


def test_same_file_given_twice_is_seen_once(tmp_path):
    root = tmp_path / "docs"
    f = write(root / "a.txt", "A.")
    d = discover([root, f, Path(str(f))])
    assert len(d.files) == 1
