"""Server-sent events through sse-starlette: framing, keep-alive pings while an answer is slow in
coming, headers that stop proxies buffering, and the stream closed when the client goes away."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import EventSourceResponse, ServerSentEvent

PING_SECONDS = 15


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


def frame(data: Any, event: str | None = None) -> ServerSentEvent:
    """One event; `data` is serialised to JSON unless it is already a str."""
    return ServerSentEvent(data if isinstance(data, str) else to_json(data), event=event, sep="\n")


def event_stream(events: AsyncIterator[ServerSentEvent]) -> EventSourceResponse:
    return EventSourceResponse(events, ping=PING_SECONDS, sep="\n")
