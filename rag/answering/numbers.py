"""What the numbers of a question stand for, and whether a passage holds them.

Why: a question that shifts a date ("in December 1949" where the text says 1947) or a count finds
the same close passage as the true one, and a word-overlap share hardly moves. Whether each of the
question's numbers stands in the evidence is a sharp signal, if numbers are read as numbers:
"1949–50" is any year of the span, "the 1120s" is any year 1120–1129, "the 17th century" any year 1600–1699,
"1,500" is 1500, "twelve" is 12 and "one hundred and ninety" is 190. Defined for any year, count or measure, not one corpus's range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DASH = r"\s*[\u2013\u2014-]\s*"
_CENTURY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\s+centur(?:y|ies)\b", re.I)
_DECADE = re.compile(r"\b(\d{2,4})0[\u2019']?s\b")
_YEAR_RANGE = re.compile(rf"\b(\d{{4}}){_DASH}(\d{{2}})\b(?!\d)")  # 1949-50, 1904–05
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_UNITS = (
    "zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
)
NUMBER_WORDS = frozenset((_UNITS + "|hundred|thousand|million|billion").split("|"))
# A run of number words: "one hundred and ninety", "twenty-four", "fifteen hundred", "sixty thousand".
_WORD_RUN = re.compile(
    rf"\b(?:{_UNITS}|hundred|thousand|million|billion)(?:(?:[\s-]+(?:and[\s-]+)?)(?:{_UNITS}|hundred|thousand|million|billion))*\b"
    r"(?![-\w])",  # not the head of an ordinal ("thirty-fourth")
    re.I,
)
# "Which three frigates", "the two earlier storms": a small count right after these counts the
# answer's items, which the text lists without numbering them.
_ANSWER_SHAPE = re.compile(r"\b(which|what|the|these|those|its|their|his|her)\s+$", re.I)
# "more than ten inches", "about 500 men": a bound or an estimate, not the text's own figure.
_APPROXIMATE = re.compile(
    r"\b(more than|over|above|under|below|less than|fewer than|at least|at most|up to|nearly|almost|"
    r"about|around|roughly|approximately|some|circa|c\.|ca\.)\s+$",
    re.I,
)


def _word_numbers(text: str) -> list[tuple[float, str, tuple[int, int]]]:
    """(value, surface, span) of each number written in words. text2num (a maintained parser)
    reads the run; a lone "one" stays a word ("one of the first", "no one")."""
    from text_to_num import alpha2digit

    out = []
    for m in _WORD_RUN.finditer(text):
        digits = alpha2digit(m.group(0).lower(), "en").replace(" ", "")
        if digits.isdigit():
            out.append((float(digits), m.group(0), m.span()))
    return out


@dataclass(frozen=True)
class Number:
    kind: str  # "exact", "about" (within a quarter), "range" (value to end), "decade" (its first digits) or "century" (its ordinal)
    value: float
    surface: str  # as the question writes it
    end: float = 0.0  # a range's last value


def _value(text: str) -> float | None:
    try:
        return float(text.replace(",", "").rstrip("."))
    except ValueError:
        return None


def question_numbers(question: str) -> list[Number]:
    """Every number the question states, read as what it stands for."""
    out: list[Number] = []
    taken: list[tuple[int, int]] = []
    for m in _CENTURY.finditer(question):
        out.append(Number("century", float(m.group(1)), m.group(0)))
        taken.append(m.span())
    for m in _DECADE.finditer(question):
        out.append(Number("decade", float(m.group(1)), m.group(0)))
        taken.append(m.span())
    for m in _YEAR_RANGE.finditer(question):  # a span: any year inside it will do
        start = m.group(1)
        out.append(Number("range", float(start), m.group(0), float(start[:2] + m.group(2))))
        taken.append(m.span())
    found = [(v, m.group(0).rstrip(".,"), m.start()) for m in _NUMBER.finditer(question) if (v := _value(m.group(0))) is not None]
    found += [(v, surface, a) for v, surface, (a, _b) in _word_numbers(question)]
    for v, surface, a in sorted(found, key=lambda f: f[2]):
        before = question[max(0, a - 20):a]
        after = question[a + len(surface):a + len(surface) + 10]
        count = v == int(v) and v <= 10 and not re.match(r"\s*(%|(hundred|thousand|million|billion|percent|per cent)\b)", after, re.I)
        if any(x <= a < y for x, y in taken) or (count and _ANSWER_SHAPE.search(before)):
            continue
        out.append(Number("about" if _APPROXIMATE.search(before) else "exact", v, surface))
    return out


def text_numbers(text: str) -> tuple[set[float], set[float]]:
    """(numbers, centuries named as ordinals) in a passage: figures, numbers in words, and the
    full end year of a range such as 1949–50."""
    values = {v for m in _NUMBER.finditer(text) if (v := _value(m.group(0))) is not None}
    values.update(float(m.group(1)[:2] + m.group(2)) for m in _YEAR_RANGE.finditer(text))
    values.update(v for v, _s, _span in _word_numbers(text))
    if re.search(r"\bone\b", text, re.I):
        values.add(1.0)
    centuries = {float(m.group(1)) for m in _CENTURY.finditer(text)}
    return values, centuries


def holds(n: Number, numbers: tuple[set[float], set[float]]) -> bool:
    values, centuries = numbers
    if n.kind == "exact":
        return n.value in values
    if n.kind == "about":
        return any(0.75 * n.value <= v <= 1.25 * n.value for v in values)
    if n.kind == "range":
        return any(n.value <= v <= n.end for v in values)
    if n.kind == "decade":
        return n.value * 10 in values or any(
            v == int(v) and int(v) // 10 == n.value for v in values
        )
    return n.value in centuries or any(
        v == int(v) and 100 <= v < 10000 and int(v) // 100 == n.value - 1 for v in values
    )


def missing(question_nums: list[Number], windows: list[str]) -> list[str]:
    """The question's numbers that no window holds, in its own spelling."""
    held = [text_numbers(w) for w in windows]
    return list(
        dict.fromkeys(n.surface for n in question_nums if not any(holds(n, h) for h in held))
    )
