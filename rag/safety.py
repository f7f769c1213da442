"""Untrusted text (documents, model output) made inert before it reaches a user."""

from __future__ import annotations

import re

HTML_TAG = re.compile(r"</?[a-zA-Z!][^>]*>")
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)]*)\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")


def has_markup(text: str) -> bool:
    return bool(HTML_TAG.search(text) or _MD_IMAGE.search(text))


def plain_text(text: str) -> str:
    """No HTML, no active images or links: tags dropped, images and links spelled out as text."""
    t = _MD_IMAGE.sub(lambda m: f"[image: {m.group(1)}]", text)
    t = _MD_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", t)
    t = HTML_TAG.sub("", t)
    return t.replace("<", "\u2039").replace(">", "\u203a") if "<" in t or ">" in t else t


def fence(text: str) -> str:
    """Passage text inside the prompt's fences cannot close the fence."""
    return re.sub(r"</?\s*passage", "[passage", text, flags=re.I)
