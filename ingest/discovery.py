"""Which files an ingest run looks at, and which it must refuse before reading them."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path

from ingest.metadata import SIDECAR_SUFFIX

IGNORE_FILE = ".cadresignore"


@dataclass
class Found:
    path: Path
    key: str  # the resolved absolute path: the file's identity in the store


@dataclass
class Discovery:
    files: list[Found]
    rejected: list[tuple[str, str]]  # (path, reason)
    roots: list[Path]  # folders walked: files gone from them are removed from the store
    unreadable: list[Path]  # folders that could not be listed: their documents are kept


def _ignore_patterns(root: Path) -> list[str]:
    f = root / IGNORE_FILE
    if not f.is_file():
        return []
    return [ln.strip() for ln in f.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip() and not ln.startswith("#")]


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def discover(paths: list[Path]) -> Discovery:
    d = Discovery([], [], [], [])
    seen: set[str] = set()

    def add(p: Path) -> None:
        key = p.resolve().as_posix()
        if key not in seen:
            seen.add(key)
            d.files.append(Found(p, key))

    for raw in paths:
        p = Path(raw)
        if not p.exists():
            d.rejected.append((str(p), "no such file or folder"))
        elif p.is_file():
            add(p)
        elif p.is_dir():
            root = p
            d.roots.append(root.resolve())
            patterns = _ignore_patterns(root)

            def unreadable(err: OSError, root: Path = root) -> None:
                where = Path(err.filename or root)
                d.unreadable.append(where.resolve())
                d.rejected.append(
                    (str(where), f"unreadable folder ({err.strerror or err}); documents ingested from it earlier are kept")
                )

            for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=False):
                base = Path(dirpath)
                for dn in list(dirnames):
                    sub = base / dn
                    if dn.startswith("."):
                        dirnames.remove(dn)
                    elif sub.is_symlink():
                        dirnames.remove(dn)
                        if not _inside(sub, root):
                            d.rejected.append((str(sub), "symlink leads outside the ingested folder; not followed"))
                for fn in sorted(filenames):
                    f = base / fn
                    rel = f.relative_to(root).as_posix()
                    if fn.startswith(".") or fn.endswith(SIDECAR_SUFFIX):
                        continue
                    if any(fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(fn, pat) for pat in patterns):
                        continue
                    if f.is_symlink() and not _inside(f, root):
                        d.rejected.append((str(f), "symlink leads outside the ingested folder; not followed"))
                        continue
                    add(f)
        else:
            d.rejected.append((str(p), "not a regular file or folder"))
    return d
