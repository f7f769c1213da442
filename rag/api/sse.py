"""Server-sent events framing."""

from __future__ import annotations

import json
from typing import Any

SSE_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx: pass events through as they come
}


def event_schema(events: list[str] | None, description: str) -> dict[str, Any]:
    """OpenAPI (3.1) schema of one event of a text/event-stream: `data` holds JSON text."""
    props: dict[str, Any] = {"data": {"type": "string", "description": "JSON text (or [DONE])."}}
    if events:
        props["event"] = {"type": "string", "enum": events}
    return {"type": "object", "description": description, "properties": props, "required": ["data"]}


def to_json(obj: Any) -> str:
    if hasattr(obj, "model_dump_json"):
        return obj.model_dump_json()
    return json.dumps(obj, ensure_ascii=False, default=str)


def frame(data: Any, event: str | None = None) -> str:
    """One SSE message; `data` is serialised to JSON unless it is already a str."""
    payload = data if isinstance(data, str) else to_json(data)
    lines = [f"event: {event}"] if event else []
    lines += [f"data: {line}" for line in payload.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"
