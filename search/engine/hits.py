"""Engine helpers: the request as run (synonyms, read filters), ordering, hits, similar terms."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any, Final

import numpy as np

from ..fields import (
    AGE_BANDS,
    FACET_AGE,
    FACET_CATEGORY,
    FACET_DRUG,
    FACET_YEAR,
    SCOPE_AUTO,
    SCOPE_DECISION,
    SECTION_CASE_SUMMARY,
    SORT_NEWEST,
    SORT_OLDEST,
)
from ..model import Determination
from ..query import ParsedQuery, build_query
from ..results import DecisionHit, Hit, QueryError, SearchRequest
from ..schema import TEXT_FIELDS, tokenize
from ..understand import Understood, merge_filters, understand
from .highlight import Terms
from .segments import IntArray

SIMILAR_TERMS = 25  # distinctive words that describe a letter for "similar"

LetterRows = tuple[IntArray, IntArray, Any, IntArray, IntArray]  # segment, letter, score, date, key


@lru_cache(maxsize=1)
def _synonyms() -> Mapping[str, Sequence[str]]:
    """Drug names that find each other (brand <-> generic), lowercase."""
    try:
        from ..parse.normalize import drug_synonyms
    except ImportError:  # the normalizer is optional for the engine
        return {}
    out: dict[str, list[str]] = {
        k.lower(): [n.lower() for n in v] for k, v in drug_synonyms().items()
    }
    # A combination product also answers to its leading ingredient and the reverse
    # (Norco <-> hydrocodone): letters often name only "hydrocodone 10/325".
    for names in list(out.values()):
        generic = names[0] if names else ""
        if "/" not in generic:
            continue
        lead = generic.split("/")[0].strip()
        if not lead:
            continue
        if lead not in names:
            names.append(lead)
        own = out.setdefault(lead, [lead])
        own.extend(n for n in names if n not in own)
    return {k: tuple(dict.fromkeys(v)) for k, v in out.items()}


@lru_cache(maxsize=1)
def _normalizers() -> Mapping[str, Callable[[str], str | None]]:
    """Facet value normalizers: state abbreviations, specialty spellings."""
    try:
        from ..parse import normalize
    except ImportError:
        return {}
    out: dict[str, Callable[[str], str | None]] = {}
    for facet, name in (
        ("state", "normalize_state"),
        ("specialty", "normalize_specialty"),
        ("category", "normalize_category"),  # older flat names in old links: "imaging"
    ):
        fn = getattr(normalize, name, None)
        if fn is not None:
            out[facet] = _safe(fn)
    return out


def _safe(fn: Callable[[str], Any]) -> Callable[[str], str | None]:
    """A normalizer that answers None instead of raising or returning non-strings."""

    def call(value: str) -> str | None:
        try:
            result = fn(value)
        except Exception:
            return None
        return result if isinstance(result, str) else None

    return call


@lru_cache(maxsize=1)
def _treatments() -> frozenset[str]:
    """Names of drugs and services (matched only in a decision's own text)."""
    try:
        from ..understand import vocabulary

        return vocabulary().treatments
    except ImportError:
        return frozenset()


def warm_vocabularies() -> None:
    """Build the query's vocabularies now (drug synonyms, normalizers, treatment names: about
    0.1 s of regular expressions and tables), e.g. in a server's parent before it forks
    workers, so no worker's first query pays for them and the workers share the pages."""
    _synonyms()
    _normalizers()
    _treatments()
    try:
        from ..understand import vocabulary
    except ImportError:
        return
    vocabulary()


def parse_request(
    text: str, filters: Mapping[str, Sequence[str]], scope: str = SCOPE_AUTO
) -> ParsedQuery:
    """build_query with the project's synonyms, normalizers and treatment names."""
    return build_query(
        text,
        filters,
        synonyms=_synonyms(),
        normalizers=_normalizers(),
        # Only the auto scope asks which words name a treatment: another scope's first
        # query does not build that vocabulary.
        treatments=_treatments() if scope == SCOPE_AUTO else frozenset(),
        scope=scope,
    )


def read_terms(understood: Understood) -> frozenset[tuple[str, str]]:
    """Highlight terms of the words read as drug or service filters (in decisions' text)."""
    words = " ".join(c.words for c in understood.chips if c.facet in (FACET_DRUG, FACET_CATEGORY))
    if not words:
        return frozenset()
    try:
        return parse_request(words, {}, SCOPE_DECISION).highlight
    except QueryError:
        return frozenset()


def understood_request(request: SearchRequest) -> tuple[ParsedQuery, Understood | None]:
    """The request's query as the engine runs it: words read as filters (unless literal),
    the rest parsed under the request's scope; and the interpretation, if any."""
    understood = None if request.literal else understand(request.q)
    if understood is None or not understood.interpreted:
        return parse_request(request.q, request.filters, request.scope), None
    filters = merge_filters(request.filters, understood.filters)
    return parse_request(understood.text, filters, request.scope), understood


def highlight_terms(parsed: ParsedQuery, understood: Understood | None) -> dict[str, Terms]:
    """What to mark per text field: the query's words, and the names read as filters."""
    if understood is None:
        return field_terms(parsed)
    return field_terms(replace(parsed, highlight=parsed.highlight | read_terms(understood)))


def make_hit(
    rec: Determination, score: float, decisions: tuple[DecisionHit, ...], marks: tuple[str, ...]
) -> Hit:
    """A Hit from a record."""
    return Hit(
        id=rec.id,
        url=f"/determinations/{rec.id}",
        source=rec.source,
        score=round(score, 4),
        decisions=decisions,
        case_number=rec.case_number,
        date_assigned=rec.date_assigned,
        ur_denial_date=rec.ur_denial_date,
        decision_date=rec.decision_date,
        states=rec.reviewer.states,
        specialties=rec.reviewer.specialties,
        highlights=marks,
    )


def ordered(facet: str, values: dict[str, int]) -> dict[str, int]:
    """Facet values in display order: years newest first, age bands in order, else by count."""
    if facet == FACET_YEAR:
        return dict(sorted(values.items(), key=lambda kv: kv[0], reverse=True))
    if facet == FACET_AGE:
        rank = {label: i for i, (label, _, _) in enumerate(AGE_BANDS)}
        return dict(sorted(values.items(), key=lambda kv: rank.get(kv[0], 99)))
    return dict(sorted(values.items(), key=lambda kv: (-kv[1], kv[0])))


def page_order(letters: LetterRows, sort: str, top: int) -> IntArray:
    """Row indices of the first `top` letters in sort order (ties: newer, then by key)."""
    _segs, _lets, best, dates, keys = letters
    n = len(best)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    score = -best.astype(np.float64)
    if sort == SORT_NEWEST:
        primary = -dates.astype(np.float64)
        keys_order = (keys, score, primary)
    elif sort == SORT_OLDEST:
        primary = np.where(dates > 0, dates, 99_999_999).astype(np.float64)
        keys_order = (keys, score, primary)
    else:
        primary = score
        keys_order = (keys, -dates.astype(np.float64), primary)
    rows = np.arange(n)
    if top < n:  # only letters that can reach the page need a full sort
        threshold = np.partition(primary, top - 1)[top - 1]
        rows = np.flatnonzero(primary <= threshold)
    order = np.lexsort(tuple(k[rows] for k in keys_order))
    result: IntArray = rows[order][:top]
    return result


def field_terms(parsed: ParsedQuery) -> dict[str, Terms]:
    """Highlight terms per text field."""
    per: dict[str, list[str]] = {f: [] for f in TEXT_FIELDS}
    for field, term in parsed.highlight:
        if field in per:
            per[field].append(term)
    return {f: Terms.of(t) for f, t in per.items() if t}


def characteristic_words(rec: Determination, reader: Any) -> list[str]:
    """The letter's most distinctive words (tf-idf over its requests and rationales)."""
    text = " ".join(
        [*(d.request for d in rec.decisions), *(d.rationale for d in rec.decisions)]
        or [rec.section(SECTION_CASE_SUMMARY)]
    )
    return distinctive_words(text, reader)


# Function words that a pasted text is full of; letters' own words are filtered by frequency.
_STOPWORDS: Final = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "was",
        "not",
        "are",
        "has",
        "had",
        "his",
        "her",
        "she",
        "him",
        "this",
        "that",
        "from",
        "were",
        "been",
        "have",
        "who",
        "but",
        "per",
        "all",
        "any",
        "due",
        "off",
        "out",
        "our",
        "its",
        "one",
        "two",
        "use",
        "may",
        "can",
        "also",
        "into",
        "than",
        "then",
        "them",
        "they",
        "there",
        "their",
        "which",
        "while",
        "would",
        "should",
        "could",
        "will",
        "over",
        "such",
        "these",
        "those",
        "after",
        "before",
    ]
)


def distinctive_words(
    text: str, reader: Any, limit: int = SIMILAR_TERMS, min_length: int = 4, max_share: float = 0.3
) -> list[str]:
    """A text's most distinctive indexed words (tf-idf against requests and rationales).

    Words in more than `max_share` of the documents are dropped as too common to tell.
    """
    counts: dict[str, int] = {}
    for word in tokenize(text):
        if len(word) >= min_length and word.isalpha() and word not in _STOPWORDS:
            counts[word] = counts.get(word, 0) + 1
    total = max(1, reader.doc_count_all())
    scored = []
    for word, tf in counts.items():
        df = sum(reader.doc_frequency(f, word) for f in ("request", "rationale"))
        if df < 2 or (total >= 50 and df > total * max_share):  # too rare or too common
            continue
        scored.append((tf * np.log(total / df), word))
    scored.sort(reverse=True)
    return [w for _, w in scored[:limit]]
