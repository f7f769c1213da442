"""Evidence: what the retrieved passages hold for one question, and the verdict on it.

Built once per question in the answering layer and consumed by both answerers: the scored
candidate sentences (with the vectors embedded at ingest), the signals the verdict reads, and the
verdict itself with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from rag.answering.fillers import fillers, surface_fillers
from rag.answering.injection import is_injection
from rag.answering.names import missing_names, question_names
from rag.answering.nlp import annotate_many
from rag.answering.numbers import missing as numbers_missing
from rag.answering.numbers import question_numbers
from rag.answering.question import Asked, Slot
from rag.answering.terms import Surface, Term, coverage, term_match
from rag.chunk_schema import authors_of, sentence_spans_of
from rag.models import Passage
from rag.safety import has_markup
from rag.text import lexical_tokens

_URL = re.compile(r"https?://|www\.|<[a-z]+://|\bdoi:|\b10\.\d{4,}/")
_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*$")
# Reference-list entries: "Brown, J. D. J. 2014." / "- J. D. J. Brown review, Monumenta ..." / "pp. 12-30".
_REFERENCE = re.compile(
    r"^\s*(-\s*)?(\[\d+\]|\d+\.)?\s*([A-Z][\w'\u2019-]+,\s+([A-Z]\.\s*){1,3}|([A-Z]\.\s*){1,3}[A-Z][\w'\u2019-]+(,| review| and| ed\.))"
    r"|\b(pp?\.\s*\d|vol\.\s*\d|ISBN|ISSN|et al\.,? \(?\d{4}|\(\d{4}\)\.|\d{4}\)\. [A-Z])"
    r"|\b(eds?\.|trans\.|[Pp]ress),?\s*(\d{4}|[A-Z][a-z]+:)"
)
# Web-portal boilerplate, in any corpus scraped from a page.
_BOILERPLATE = re.compile(
    r"research output|cite this|dive into the research topics|all rights reserved|terms of (use|service)|"
    r"privacy policy|cookie|retrieved \w+ \d|accessed( on)? \d|share this|download (pdf|citation)|"
    r"sign in|log in|subscribe|copyright ©|©|powered by|jump to (navigation|search)|from wikipedia, the free|"
    r"this article (is about|needs)|click here|read more|skip to (main )?content|fingerprint|"
    r"original language\s*[A-Z]|pages \(from-to\)|publication status|issue number\s*\d",  # research-portal record fields
    re.I,
)
# Sentences about the document rather than the subject: "These notes cover the Khabarovsk trial."
_META = re.compile(
    r"^(these|this|the following|the present) (notes?|pages?|sections?|entry|entries|chapter|summary|overview|"
    r"document|file|record)\b|^see also\b|^for (more|further) (details|information)\b",
    re.I,
)
_REFERENCE_HEADING = re.compile(
    r"^[ \t]*(#+[ \t]*)?(references|bibliography|works cited|sources|notes|footnotes|further reading|external links|"
    r"literature|citations)[ \t]*:?[ \t]*$",
    re.I | re.M,
)
SLOT_CANDIDATES = 10  # best-scored sentences searched for one that fills the question's slot
NUMBER_WINDOWS = 3  # best-scored sentence windows that must hold each of the question's numbers
TERM_WEIGHT = 0.35
RANK_WEIGHT = 0.04


@dataclass
class Sentence:
    text: str
    passage: int  # index into the retrieval's passages
    start: int  # offsets within the passage text
    end: int
    vec: np.ndarray

    @property
    def display(self) -> str:
        """The sentence without a list bullet: still a verbatim substring of its chunk."""
        return self.text[2:] if self.text.startswith("- ") else self.text


@dataclass
class Scored:
    sentence: Sentence
    sim: float
    score: float
    coverage: float = 0.0
    filled: bool = True  # holds a filler of the asked kind
    entity: float = 1.0  # share of the question's names and numbers in the sentence and the one before
    attribute: float = 1.0  # (soft) share of its plain words there
    window: float = 0.0  # (soft) share of all key terms in the sentence and the one before
    gap: float = 1.0  # rarity of the rarest key term the window lacks (0: lacks none)


@dataclass
class Signals:
    """What the verdict reads. Each is defined for questions and documents in general."""

    best_sim: float = 0.0  # closest sentence (cosine)
    passage_sim: float = 0.0  # closest passage
    entity: float = 1.0  # best candidate's share of the question's names and numbers
    fit: float = 0.0  # one sentence with a filler, the names and the plain words together
    window: float = 0.0  # best candidate's (soft) share of all key terms, with the sentence before
    gap: float = 1.0  # rarity of the rarest key term that best window lacks
    rare_missing: float = 0.0  # rarity of the rarest key term no retrieved passage has
    number_missing: float = 0.0  # 1: a number of the question (a year, count, decade) is in none of the best windows
    name_missing: float = 0.0  # 1: a multi-word name of the question stands (words side by side) in no passage
    slot: str | None = None
    missing: list[str] = field(default_factory=list)  # the question's own words absent from the evidence
    unknown: list[str] = field(default_factory=list)  # ... absent from the whole corpus
    numbers: list[str] = field(default_factory=list)  # the question's numbers the best windows lack
    names: list[str] = field(default_factory=list)  # the question's multi-word names no passage holds

    def vector(self, features: tuple[str, ...]) -> list[float]:
        return [float(getattr(self, f)) for f in features]


@dataclass
class Verdict:
    answerable: bool
    probability: float
    reason: str = ""


@dataclass
class Evidence:
    question: str
    query: str
    asked: Asked
    passages: list[Passage]
    sentences: list[Scored]  # best first
    all_sentences: list[Sentence]  # every prose sentence of the passages, in passage order
    signals: Signals
    verdict: Verdict | None = None


def is_prose(text: str) -> bool:
    """Headings, reference-list lines, boilerplate and fragments make poor answers; text addressed
    to an AI model ("Ignore all previous instructions ...") is never evidence at all."""
    words = text.split()
    if len(words) < 5 or _URL.search(text) or has_markup(text) or text.rstrip().endswith("?"):
        return False  # a question (often a heading) answers nothing
    if _REFERENCE.search(text) or _BOILERPLATE.search(text) or _META.search(text) or is_injection(text):
        return False
    if _form_fields(text):
        return False
    return bool(_END.search(text.strip())) or len(words) > 14


def _form_fields(text: str) -> bool:
    """Lines of a record or form ("Original languageEnglish / Pages (from-to)200-230 / Journal...")
    that the splitter ran together: most lines short and none of them ending a sentence."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    short = sum(len(ln.split()) <= 6 and not _END.search(ln) for ln in lines)
    return len(lines) >= 3 and short >= 0.6 * len(lines)


def _reference_start(text: str) -> int:
    """Offset of a references/bibliography heading in a chunk; sentences after it are never quoted."""
    m = _REFERENCE_HEADING.search(text)
    return m.start() if m else len(text) + 1


def is_title_line(text: str, title: str) -> bool:
    """The document's title (with a subtitle or byline after it), not a sentence that opens with
    the title's words: "The Legend of Zelda: Twilight Princess is an action-adventure game" is content."""
    t = text.strip().lstrip("#").strip().casefold()
    if not t.startswith(title):
        return False
    rest = t[len(title):].strip()
    return not rest or rest[0] in ":|\u2013\u2014" or rest.startswith("by ")


def gather(passages: list[Passage], vectors: dict[str, np.ndarray], encode) -> list[Sentence]:
    """The prose sentences of the passages, by the spans each chunk stores, with the vectors read
    with the chunk; a chunk stored without them (before pipeline version 6) has its sentences
    encoded here, by `encode` (texts -> vectors), so an old store still answers until re-ingested."""
    if not passages:
        return []
    spans = {i: sentence_spans_of(p.metadata) for i, p in enumerate(passages)}
    stale = [i for i, p in enumerate(passages) if p.chunk_id not in vectors or len(vectors[p.chunk_id]) != len(spans[i])]
    if stale:
        texts = [passages[i].text[a:b] for i in stale for a, b in spans[i]]
        fresh = encode(texts) if texts else np.zeros((0, 0), dtype=np.float32)
        vectors, at = dict(vectors), 0
        for i in stale:
            vectors[passages[i].chunk_id] = fresh[at : at + len(spans[i])]
            at += len(spans[i])
    out = []
    for i, p in enumerate(passages):
        cut = _reference_start(p.text)
        title = str(p.metadata.get("title", "")).strip().casefold()
        vecs = vectors[p.chunk_id]
        for (start, end), vec in zip(spans[i], vecs, strict=True):
            text = p.text[start:end]
            if not is_prose(text) or start > cut or (title and is_title_line(text, title)):
                continue
            out.append(Sentence(text, i, start, end, vec))
    return out


def previous(sentences: list[Sentence], s: Sentence) -> Sentence | None:
    """The sentence before `s` in its passage (among the prose sentences)."""
    prev = None
    for c in sentences:
        if c.passage == s.passage and c.start < s.start:
            prev = c
    return prev


def score_sentences(
    sentences: list[Sentence], qvec: np.ndarray, terms: list[Term], bylines: list[set[str]] | None = None
) -> list[Scored]:
    """`bylines`: per passage, the stems of its authors' names. A question that names the authors
    ("according to King and Muminov") is about their document, whose sentences say "we" and never
    those names: there the names count as present."""
    if not sentences:
        return []
    sims = np.vstack([s.vec for s in sentences]) @ qvec
    out = []
    for s, sim in zip(sentences, sims, strict=True):
        toks = set(lexical_tokens(s.text))
        cov = coverage(terms, toks | bylines[s.passage] if bylines else toks)
        out.append(Scored(s, float(sim), float(sim) + TERM_WEIGHT * cov + RANK_WEIGHT / (1 + s.passage), cov))
    out.sort(key=lambda x: -x.score)
    return out


def _soft_share(terms: list[Term], text: str | Surface, words) -> float:
    total = sum(t.weight for t in terms)
    if not total:
        return 1.0
    return sum(t.weight * term_match(t, text, words) for t in terms) / total


def heading(p: Passage) -> str:
    """The passage's title and authors: "What does Gibbon say …", "Which archives did King and
    Muminov use?" name a document by its authors, whose names its sentences never repeat."""
    return f"{p.metadata.get('title', '')} {' '.join(authors_of(p.metadata))}"


def _filled(top: list[Scored], slot, question: str) -> list[bool]:
    """Whether each candidate holds a filler of the asked kind. Only the sentences that surface
    forms cannot settle are tagged, in one batch; a candidate with none of the question's entity
    terms is not, since its fill counts only times its entity share (0)."""
    if not slot:
        return [True] * len(top)
    out = [bool(surface_fillers(c.sentence.text, slot, question)) for c in top]
    need = [i for i, c in enumerate(top) if not out[i] and c.entity > 0]
    for i, ann in zip(need, annotate_many([top[i].sentence.text for i in need]), strict=True):
        out[i] = bool(fillers(ann, slot, question))
    return out


def _prefetch(words, terms, attribute_terms, top, windows, surfaces) -> None:
    """The words the similarity checks below will compare (a term no window holds by its stem, and
    that window's words), encoded in one batch rather than one batch per check."""
    need: list[str] = []
    for c, window in zip(top, windows, strict=True):
        for term_list, sf in ((terms, surfaces[window]), (attribute_terms, surfaces[c.sentence.text])):
            lacking = [t.word for t in term_list if not t.specific and t.word[:1].isalpha() and t.token not in sf.stems]
            if lacking:
                need += lacking + list(sf.words)
    if need:
        words.vectors(need)


def build(
    asked: Asked, query: str, passages: list[Passage], qvec: np.ndarray, sentence_vecs: dict[str, np.ndarray], encode, words
) -> Evidence:
    """Scored sentences and signals; the verdict is added by verdict.decide. `sentence_vecs` and
    `encode`: see gather."""
    sentences = gather(passages, sentence_vecs, encode)
    bylines = [set(lexical_tokens(" ".join(authors_of(p.metadata)))) for p in passages]
    scored = score_sentences(sentences, qvec, asked.terms, bylines)
    heads = [heading(p) for p in passages]
    evidence_tokens: set[str] = set()
    for h, p in zip(heads, passages, strict=True):
        evidence_tokens.update(lexical_tokens(f"{h} {p.text}"))
    terms = asked.terms
    total = sum(t.weight for t in terms) or 1.0
    entity_terms, attribute_terms = asked.entity_terms, asked.attribute_terms
    slot = asked.slot if asked.slot is not Slot.REASON else None
    top = scored[:SLOT_CANDIDATES]
    best_fit = 0.0
    windows: list[str] = []
    for c in top:
        prev = previous(sentences, c.sentence)
        windows.append(f"{prev.text if prev else ''} {c.sentence.text} {heads[c.sentence.passage]}")
    surfaces = {t: Surface.of(t) for t in [*windows, *(c.sentence.text for c in top)]}
    for c, window in zip(top, windows, strict=True):
        c.entity = coverage(entity_terms, surfaces[window].stems) if entity_terms else 1.0
    filled = _filled(top, slot, asked.text)
    _prefetch(words, terms, attribute_terms, top, windows, surfaces)
    for i, c in enumerate(top):
        window = windows[i]
        wtokens = surfaces[window].stems  # = set(lexical_tokens(window))
        c.attribute = _soft_share(attribute_terms, surfaces[c.sentence.text], words)
        c.filled = filled[i]
        matched = [
            (t, 1.0 if t.token in wtokens else (0.0 if t.specific else term_match(t, surfaces[window], words)))
            for t in terms
        ]
        c.window = sum(t.weight * m for t, m in matched) / total
        c.gap = max((t.rarity * (1 - m) for t, m in matched), default=0.0)
        best_fit = max(best_fit, float(c.filled) * c.entity * c.attribute)
    best = max(top, key=lambda c: (c.window, c.score), default=None)
    missing = [t for t in terms if t.token not in evidence_tokens]
    qnums = question_numbers(asked.text)
    lacking = numbers_missing(qnums, windows[:NUMBER_WINDOWS]) if qnums and windows else []
    names = question_names(asked.annotated) if asked.annotated else []
    absent_names = missing_names(names, [f"{h}\n{p.text}" for h, p in zip(heads, passages, strict=True)])
    signals = Signals(
        best_sim=round(max((s.sim for s in scored), default=0.0), 4),
        passage_sim=round(max((p.score for p in passages), default=0.0), 4),
        entity=round(best.entity, 4) if best else 0.0,
        fit=round(best_fit, 4),
        window=round(best.window, 4) if best else 0.0,
        gap=round(best.gap, 4) if best else 1.0,
        rare_missing=round(max((t.rarity for t in terms if t.token not in evidence_tokens), default=0.0), 4),
        number_missing=1.0 if lacking else 0.0,
        name_missing=1.0 if absent_names else 0.0,
        slot=asked.slot.value if asked.slot else None,
        missing=[t.word for t in missing],
        unknown=[t.word for t in terms if not t.known],
        numbers=lacking,
        names=absent_names,
    )
    return Evidence(asked.text, query, asked, passages, scored, sentences, signals)
