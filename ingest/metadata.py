"""Bibliographic metadata: file-name defaults < front matter < sidecar `<file>.meta.yaml`."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml
from pydantic import ValidationError

from ingest.errors import FileRejected
from rag.models import DocumentMeta

SIDECAR_SUFFIX = ".meta.yaml"
_FIELDS = set(DocumentMeta.model_fields)
_ALIASES = {"author": "authors", "journal": "container", "book": "container", "type": "source_type", "date": "year"}


def slugify(text: str) -> str:
    """Stable id from a name; letters of any script are kept (Cyrillic, Japanese names differ)."""
    t = unicodedata.normalize("NFKD", text)
    t = unicodedata.normalize("NFC", "".join(c for c in t if not unicodedata.combining(c))).lower()
    t = re.sub(r"[\W_]+", "-", t).strip("-")
    return t[:80] or "document"


def sidecar_for(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _defaults(path: Path) -> dict:
    stem = path.stem
    year = re.search(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)", stem)
    title = re.sub(r"[-_]+", " ", stem).strip()
    return {
        "doc_id": slugify(stem),
        "title": title[:1].upper() + title[1:] if title else path.name,
        "year": int(year.group(1)) if year else None,
        "source_type": {".pdf": "PDF document", ".html": "web page", ".htm": "web page"}.get(
            path.suffix.lower(), "document"
        ),
    }


def _normalise(raw: dict, where: str) -> dict:
    out: dict = {}
    for key, value in raw.items():
        k = _ALIASES.get(str(key).lower(), str(key).lower())
        if k not in _FIELDS or value is None:
            continue
        if k == "authors":
            value = [a.strip() for a in re.split(r";|\band\b", value)] if isinstance(value, str) else value
            if not isinstance(value, list):
                raise FileRejected(f"{where}: field 'authors' must be a list of names")
            value = [str(a).strip() for a in value if str(a).strip()]
        elif k == "themes":
            value = [value] if isinstance(value, str) else [str(v) for v in value]
        elif k == "year":
            m = re.search(r"\d{4}", str(value))
            if not m:
                raise FileRejected(f"{where}: field 'year' must be a four-digit year, got {value!r}")
            value = int(m.group(0))
        elif k == "doc_id":
            value = slugify(str(value))
        else:
            value = str(value)
        out[k] = value
    return out


def read_metadata(path: Path, front_matter: dict, html_title: str | None = None) -> DocumentMeta:
    data = _defaults(path)
    if html_title:
        data["title"] = html_title
    data.update(_normalise(front_matter, f"{path.name} front matter"))
    side = sidecar_for(path)
    if side.exists():
        try:
            raw = yaml.safe_load(side.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as e:
            raise FileRejected(f"{side.name}: invalid YAML sidecar ({str(e).splitlines()[0]})") from e
        if not isinstance(raw, dict):
            raise FileRejected(f"{side.name}: sidecar must be a YAML mapping")
        data.update(_normalise(raw, side.name))
    try:
        return DocumentMeta(**data)
    except ValidationError as e:
        err = e.errors()[0]
        raise FileRejected(f"{path.name}: bad metadata field {'.'.join(map(str, err['loc']))}: {err['msg']}") from e
