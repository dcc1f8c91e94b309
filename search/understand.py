"""Query understanding: words of a free-text query that name a facet value become filters.

`understand("tizanidine overturned for chronic low back pain")` reads "tizanidine" as the
drug filter, "overturned" as the outcome filter, drops the joining "for", and leaves the
words "chronic low back pain" to match as text. Only plain words at the top level of an
AND-only query are read: phrases, `field:value` terms, negated words, words in parentheses
and queries with OR are left as written. Pure; the vocabularies come from search/parse/data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Final

from .fields import (
    CATEGORIES,
    CATEGORY_MEDICATION,
    CATEGORY_OTHER,
    FACET_CATEGORY,
    FACET_DRUG,
    FACET_LABELS,
    FACET_OUTCOME,
    FACET_SPECIALTY,
    FACET_STATE,
    OUTCOME_OVERTURNED,
    OUTCOME_UPHELD,
)
from .query import _lex, _Tok
from .results import QueryError
from .schema import tokenize

MAX_NAME_WORDS: Final = 4  # words of the longest name looked up ("durable medical equipment")
# Joining words with no meaning of their own once the named values are read as filters.
STOPWORDS: Final = frozenset(
    {"a", "an", "the", "for", "of", "in", "on", "at", "to", "by", "with", "from", "about"}
    | {"and", "or", "vs", "versus", "cases", "case"}
)
OUTCOME_WORDS: Final = {
    "overturned": OUTCOME_OVERTURNED,
    "overturn": OUTCOME_OVERTURNED,
    "approved": OUTCOME_OVERTURNED,  # the treatment was found medically necessary
    "approve": OUTCOME_OVERTURNED,
    "upheld": OUTCOME_UPHELD,
    "uphold": OUTCOME_UPHELD,
    "denied": OUTCOME_UPHELD,  # the denial stands
    "deny": OUTCOME_UPHELD,
}
# Drug names that are also everyday words: searched as words, never read as the drug.
COMMON_WORD_DRUGS: Final = frozenset({"soma", "sonata", "cambia", "revia", "compounded topical"})
# Categories a word can name ("other", "programs" and the like name nothing in particular).
SERVICE_NAMES: Final = tuple(
    c
    for c in CATEGORIES
    if c not in (CATEGORY_MEDICATION, CATEGORY_OTHER, "programs") and not c.endswith("/other")
)
# Names of particular services: words that match only a decision's own text.
SERVICE_WORDS: Final = (
    *("mri", "ct scan", "cat scan", "x ray", "x rays", "xray", "bone scan"),
    *("emg", "ncv", "nerve conduction study", "electromyography", "ultrasound"),
    *("tens unit", "h wave", "interferential unit", "spinal cord stimulator"),
    *("epidural steroid injection", "epidural injection", "trigger point injection"),
    *("facet injection", "nerve block", "radiofrequency ablation", "arthroscopy"),
    *("functional restoration program", "urine drug screen", "urine drug test"),
    *("aquatic therapy", "massage", "biofeedback", "psychotherapy", "cognitive behavioral therapy"),
)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Names (lowercase words joined by one space) of facet values, and treatment names."""

    names: Mapping[str, tuple[str, str]]  # name -> (facet, value)
    treatments: frozenset[str]  # names of drugs and services: matched in decisions only


@dataclass(frozen=True, slots=True)
class Chip:
    """One interpreted term: the facet value it was read as and the words as written."""

    facet: str
    value: str
    words: str
    without: str  # the query text without these words (the chip's remove link)

    @property
    def label(self) -> str:
        """ "drug tizanidine"."""
        return f"{FACET_LABELS.get(self.facet, self.facet).lower()} {self.value}"


@dataclass(frozen=True, slots=True)
class Understood:
    """A query as understood: filters read from it, and the words left to match as text."""

    original: str
    text: str  # the rest of the query, searched as text
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    chips: tuple[Chip, ...] = ()

    @property
    def interpreted(self) -> bool:
        """Whether any word was read as a filter."""
        return bool(self.chips)

    @property
    def summary(self) -> str:
        """ "drug tizanidine, outcome Overturned; words: chronic low back pain"."""
        labels = ", ".join(dict.fromkeys(c.label for c in self.chips))
        words = f"words: {self.text}" if self.text else ""
        return "; ".join(p for p in (labels, words) if p)

    def to_json(self) -> dict[str, object]:
        """The interpretation as /api/search and `search --json` report it."""
        return {
            "summary": self.summary,
            "words": self.text,
            "filters": {k: list(v) for k, v in self.filters.items()},
            "chips": [
                {"facet": c.facet, "value": c.value, "words": c.words, "without": c.without}
                for c in self.chips
            ],
        }


def _key(name: str) -> str:
    return " ".join(tokenize(name))


def _data(name: str) -> object:
    return json.loads(resources.files("search.parse.data").joinpath(name).read_text("utf-8"))


@cache
def vocabulary() -> Vocabulary:
    """The project's vocabulary: drugs, outcomes, services, specialties, states."""
    from .parse.normalize import categorize, drug_synonyms

    names: dict[str, tuple[str, str]] = {}
    treatments: set[str] = set()
    for name, group in drug_synonyms().items():
        key = _key(name)
        if key and group:
            treatments.add(key)
            if key not in COMMON_WORD_DRUGS and _key(group[0]) not in COMMON_WORD_DRUGS:
                names.setdefault(key, (FACET_DRUG, group[0]))
    for word, outcome in OUTCOME_WORDS.items():
        names.setdefault(word, (FACET_OUTCOME, outcome))
    for service in SERVICE_NAMES:
        # "physical medicine/acupuncture" is named "acupuncture"; "injections" "injection".
        for name in {service, service.rsplit("/", 1)[-1]}:
            key = _key(name)
            for variant in (key, key[:-1] if key.endswith("s") else key):
                treatments.add(variant)
                names.setdefault(variant, (FACET_CATEGORY, service))
    # Named services stay words (an MRI is not every imaging study), matched in decisions.
    treatments.update(_key(w) for w in SERVICE_WORDS)
    specialties = _data("specialties.json")
    assert isinstance(specialties, dict)
    for canonical, variants in specialties["specialties"].items():
        for variant in (canonical, *variants):
            key = _key(variant)
            # A single word that names a service ("acupuncture", "psychology") is the service.
            a_service = " " not in key and categorize(variant, None) != "other"
            if key and key not in names and not a_service:
                names[key] = (FACET_SPECIALTY, canonical)
    states = _data("states.json")
    assert isinstance(states, dict)
    for state in states["states"]:
        names.setdefault(_key(state["name"]), (FACET_STATE, state["name"]))
    return Vocabulary(names, frozenset(treatments))


def _eligible(toks: list[_Tok]) -> list[bool]:
    """Per token: a plain word at the top level, not negated and not a field's value."""
    out: list[bool] = []
    depth = 0
    for k, tok in enumerate(toks):
        prev = toks[k - 1].kind if k else ""
        ok = (
            tok.kind == "WORD"
            and depth == 0
            and prev not in ("NOT", "MINUS", "FIELD")
            and "*" not in tok.text
        )
        out.append(ok)
        if tok.kind == "LPAREN":
            depth += 1
        elif tok.kind == "RPAREN":
            depth = max(0, depth - 1)
    return out


def _rest(text: str, toks: list[_Tok], drop: set[int]) -> str:
    """The query text without the dropped tokens (and ANDs left dangling by them)."""
    keep = [k for k in range(len(toks)) if k not in drop]
    changed = True
    while changed:  # "a AND b" without b: the AND goes too
        changed = False
        for n, k in enumerate(keep):
            if toks[k].kind != "AND":
                continue
            before = toks[keep[n - 1]].kind if n else None
            after = toks[keep[n + 1]].kind if n + 1 < len(keep) else None
            if before in (None, "AND", "LPAREN", "NOT", "MINUS") or after in (
                None,
                "AND",
                "RPAREN",
            ):
                keep.pop(n)
                changed = True
                break
    kept = set(keep)
    pieces = []
    for k, tok in enumerate(toks):
        end = toks[k + 1].pos if k + 1 < len(toks) else len(text)
        if k in kept:
            pieces.append(text[tok.pos : end])
    return " ".join("".join(pieces).split())


def understand(text: str, vocab: Vocabulary | None = None) -> Understood:
    """The facet values named by the words of a query, and the rest of its text."""
    vocab = vocab or vocabulary()
    try:
        toks = _lex(text)
    except QueryError:
        return Understood(text, text)
    if any(t.kind == "OR" for t in toks):  # "a OR b": reading a word as a filter changes it
        return Understood(text, text)
    eligible = _eligible(toks)
    found: list[tuple[list[int], str, str]] = []  # (token indexes, facet, value)
    k = 0
    while k < len(toks):
        if not eligible[k]:
            k += 1
            continue
        for size in range(MAX_NAME_WORDS, 0, -1):  # the longest name first ("new york")
            run = list(range(k, min(k + size, len(toks))))
            if len(run) < size or not all(eligible[j] for j in run):
                continue
            hit = vocab.names.get(_key(" ".join(toks[j].text for j in run)))
            if hit is not None:
                found.append((run, *hit))
                k += size
                break
        else:
            k += 1
    if not found:
        return Understood(text, text)
    used = {j for run, _, _ in found for j in run}
    stop = {
        j
        for j, tok in enumerate(toks)
        if eligible[j] and j not in used and tok.text.lower() in STOPWORDS
    }
    filters: dict[str, tuple[str, ...]] = {}
    chips = []
    for run, facet, value in found:
        filters[facet] = tuple(dict.fromkeys((*filters.get(facet, ()), value)))
        words = " ".join(toks[j].text for j in run)
        chips.append(Chip(facet, value, words, _rest(text, toks, set(run))))
    return Understood(text, _rest(text, toks, used | stop), filters, tuple(chips))


def merge_filters(
    given: Mapping[str, tuple[str, ...]], read: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """Filters given explicitly plus those read from the query (values of one facet OR)."""
    out = {f: tuple(v) for f, v in given.items()}
    for facet, values in read.items():
        out[facet] = tuple(dict.fromkeys((*out.get(facet, ()), *values)))
    return out


def without_facet(text: str, facet: str) -> str:
    """The query text without the words that are read as values of one facet."""
    for _ in range(len(text)):  # each round removes at least one chip's words
        chip = next((c for c in understand(text).chips if c.facet == facet), None)
        if chip is None:
            break
        text = chip.without
    return text
