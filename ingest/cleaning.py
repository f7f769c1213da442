"""Text cleaning applied to every document before chunking."""

from __future__ import annotations

import re
import unicodedata

# Control characters except tab and newline; U+FFFD (replacement char) and BOMs.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ufeff\u200b]")
_HYPHEN_BREAK = re.compile(r"(\w)[-\u00ad]\n[ \t]*([a-z])")
_SOFT_HYPHEN = re.compile("\u00ad")


# A footnote number glued to the end of a sentence: "in 1950.2 Similarly" -> "in 1950. Similarly".
# Only after a word of two letters or more, a four-digit year or a closing quote, so "version 3.2 The"
# keeps its number.
_GLUED_NOTE = re.compile(r"(?:(?<=[A-Za-z\u00C0-\u024F]{2})|(?<=\d{4})|(?<=[\"\u201d\u2019)]))([.,;:!?][\"\u201d\u2019)]?)(\d{1,3})(?=\s+[A-Z\u201c\"(]|\s*$)", re.M)
# Bracketed reference marks of encyclopedias and editors: "[15]", "[citation needed]", "[a]".
_REF_MARK = re.compile(r"\[(\d{1,3}|[a-z]|(citation|better source|clarification|page|year|who|when|according to whom)( needed)?)\]", re.I)
_NUMBER_RANGE = re.compile(r"(?<=\d)--(?=\d)")
# A replacement character before a clitic stood for an apostrophe (Japan\ufffds); elsewhere for a quote.
_LOST_APOSTROPHE = re.compile(r"(?<=\w)\ufffd(?=(s|t|d|ll|re|ve|m)\b)")


_OPEN = re.compile(r"(?<!\S)\ufffd(?=\S)")
_CLOSE = re.compile(r"(?<=\S)\ufffd(?!\S)")


def _mend_lost_quotes(t: str) -> str:
    """U+FFFD left where a quote mark was lost: an apostrophe before a clitic, a pair of curly
    quotes where a paragraph's opening and closing ones balance, and nothing otherwise (inside a
    word, or unpaired), so no quote is left open."""
    t = _LOST_APOSTROPHE.sub("\u2019", t)
    out = []
    for para in t.split("\n"):
        if "\ufffd" in para:
            opens, closes = len(_OPEN.findall(para)), len(_CLOSE.findall(para))
            if opens and opens == closes:
                para = _CLOSE.sub("\u201d", _OPEN.sub("\u201c", para))
        out.append(para.replace("\ufffd", ""))
    return "\n".join(out)


def clean_scholarly(t: str) -> str:
    """Footnote numbers and reference marks off the words, en dashes in number ranges."""
    t = _REF_MARK.sub("", t)
    t = _GLUED_NOTE.sub(r"\1", t)
    t = _NUMBER_RANGE.sub("\u2013", t)
    return t


def clean_text(text: str) -> str:
    t = text.replace("\r\n", "\n").replace("\r", "\n")
    t = unicodedata.normalize("NFC", t)
    t = _mend_lost_quotes(t)
    t = _CONTROL.sub("", t)
    t = clean_scholarly(t)
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


# A stretch of 1000 characters with no space and no CJK sentence end is no prose (base64, a hex or
# data dump, one word repeated): sentence splitting and tokenizing it would cost minutes and gigabytes
# for chunks nobody can read. Long URLs and DOIs are far shorter; CJK prose ends its sentences. The
# same goes for 1000 characters of consecutive lines that hold no space at all (MIME base64 wraps its
# lines at 76 characters), unless they are CJK text.
UNBROKEN_RUN = 1000
# The lookbehind makes a match start only where a run starts, which keeps the scan linear.
_UNBROKEN = re.compile(rf"(?<![^\s\u3002\uff01\uff1f])[^\s\u3002\uff01\uff1f]{{{UNBROKEN_RUN},}}")
_DENSE_LINE = re.compile(r"^[^\s\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]{40,}$")
_DENSE_TAIL = re.compile(r"^[^\s\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]{1,}$")  # a block's short last line


def drop_unbroken_runs(text: str) -> tuple[str, list[int]]:
    """The text without its unbroken runs of symbols, and the length of each run left out."""
    dropped: list[int] = []

    def cut(m: re.Match) -> str:
        dropped.append(len(m.group(0)))
        return " "

    text = _UNBROKEN.sub(cut, text)
    if "\n" not in text:
        return text, dropped
    out: list[str] = []
    block: list[str] = []

    def flush() -> None:
        if sum(len(b) + 1 for b in block) >= UNBROKEN_RUN:
            dropped.append(sum(len(b) + 1 for b in block) - 1)
            out.append("")
        else:
            out.extend(block)
        block.clear()

    for line in text.split("\n"):
        if _DENSE_LINE.match(line.strip()) or (block and _DENSE_TAIL.match(line.strip())):
            block.append(line)
            continue
        if block:
            flush()
        out.append(line)
    if block:
        flush()
    return "\n".join(out), dropped


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
