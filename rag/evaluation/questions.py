"""Question files: one JSON object per line; a bad line is reported with its number and skipped."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator


class Question(BaseModel):
    id: str
    question: str
    answerable: bool = True
    must_include: list[str] = Field(default_factory=list)
    history: list[str] = Field(default_factory=list)
    answer: str | None = None
    gold_doc_ids: list[str] = Field(default_factory=list)
    unanswerable_kind: str | None = Field(None, description="attribute-absent, entity-swapped, date-shifted ...")

    @field_validator("id", mode="before")
    @classmethod
    def _id_str(cls, v):
        return str(v) if isinstance(v, int) else v

    @field_validator("question")
    @classmethod
    def _not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v


class LineError(BaseModel):
    line: int
    error: str


def parse_questions(lines: list[str], source: str = "questions") -> tuple[list[Question], list[LineError]]:
    questions: list[Question] = []
    errors: list[LineError] = []
    seen: set[str] = set()
    for n, raw in enumerate(lines, start=1):
        if not raw.strip() or raw.lstrip().startswith("//"):
            continue
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            q = Question(**data)
        except json.JSONDecodeError as e:
            errors.append(LineError(line=n, error=f"{source}:{n}: invalid JSON ({e.msg})"))
            continue
        except ValidationError as e:
            err = e.errors()[0]
            field = ".".join(map(str, err["loc"])) or "line"
            errors.append(LineError(line=n, error=f"{source}:{n}: field {field!r}: {err['msg']}"))
            continue
        except ValueError as e:
            errors.append(LineError(line=n, error=f"{source}:{n}: {e}"))
            continue
        if q.id in seen:
            errors.append(LineError(line=n, error=f"{source}:{n}: duplicate id {q.id!r}"))
            continue
        seen.add(q.id)
        questions.append(q)
    return questions, errors


def load_questions(path: str | Path) -> tuple[list[Question], list[LineError]]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise FileNotFoundError(f"{p}: cannot read question file ({e})") from e
    return parse_questions(text.splitlines(), p.name)
