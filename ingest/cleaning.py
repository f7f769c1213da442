"""Text cleaning applied to every document before chunking."""

from __future__ import annotations

import re
import unicodedata

# Control characters except tab and newline; U+FFFD (replacement char) and BOMs.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ufeff\u200b]")
_HYPHEN_BREAK = re.compile(r"(\w)[-\u00ad]\n[ \t]*([a-z])")
_SOFT_HYPHEN = re.compile("\u00ad")


def clean_text(text: str) -> str:
    t = text.replace("\r\n", "\n").replace("\r", "\n")
    t = unicodedata.normalize("NFC", t)
    t = _CONTROL.sub("", t)
    # LaTeX-style quotes: ``like this'' -> “like this”
    t = re.sub(r"``(.*?)''", "\u201c\\1\u201d", t, flags=re.S)
    t = t.replace("``", "\u201c").replace("''", "\u201d")
    # Words hyphenated across a line break: "inter-\nnees" -> "internees" (not "Russo-\nJapanese").
    t = _HYPHEN_BREAK.sub(r"\1\2", t)
    t = _SOFT_HYPHEN.sub("", t)
    t = re.sub(r"[ \t\u00a0\u2000-\u200a\u3000]+", " ", t)
    t = re.sub(r" *\n *", "\n", t)
    t = re.sub(r"\n{3,}", "\n\n", t)
    return t.strip()


def markdown_to_text(md: str) -> str:
    """Keep the words of Markdown, drop its markup (images become inert text)."""
    t = re.sub(r"```.*?```", lambda m: m.group(0).strip("`"), md, flags=re.S)
    t = re.sub(r"!\[([^\]]*)\]\(([^)]*)\)", r"[image: \1]", t)
    t = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1 (\2)", t)
    t = re.sub(r"^#{1,6}\s*(.+?)\s*#*\s*$", r"\n\1\n", t, flags=re.M)  # a heading is its own paragraph
    t = re.sub(r"(\*\*|__)(.+?)\1", r"\2", t)
    t = re.sub(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?!\w)", r"\1", t)
    t = re.sub(r"`([^`\n]+)`", r"\1", t)
    t = re.sub(r"^\s*>\s?", "", t, flags=re.M)
    t = re.sub(r"^\s*[-*+]\s+", "- ", t, flags=re.M)
    t = re.sub(r"<(https?://[^>\s]+)>", r"\1", t)
    return t
