"""Service categories of requests, after the DWC's own treatment categories.

``categorize`` tries the rules of ``data/categories.json`` in order (the file documents the
phrase syntax); the first rule with a matching phrase, and none of its "unless" phrases, wins.
It trusts its drug argument (None: no drug); procedure words (epidural, facet, trigger point,
urine drug screen...) outrank a drug, and a drug written as a topical (cream, gel, %) outranks
the procedure words ("... Hyaluronic acid 0.2% cream" is a compound, not an injection).

``category_family`` maps a category to its family (the part before "/"), and also reads the
older, flat category names (the labels of ``shared/real-letters``, indexes built before this
vocabulary): medication, imaging, laboratory, diagnostic testing, physical therapy,
chiropractic, acupuncture, injection, durable medical equipment, consultation, office visit,
psychological services, functional restoration, home health, surgery, other.
"""

from __future__ import annotations

import re
from functools import cache
from typing import NamedTuple

from ..fields import CATEGORIES, CATEGORY_MEDICATION, CATEGORY_OTHER
from .drugs import is_topical
from .lexicon import Rx, read_json

_PIECE = Rx(r"[A-Za-z]+|[0-9]+|%")
_RELEASE_WORDS = Rx(r" (?:extended|sustained|controlled|immediate|delayed) release ")

# Older flat category names -> family (see the module docstring).
_LEGACY_FAMILY = {
    "medication": "pharmaceuticals",
    "imaging": "diagnostic",
    "laboratory": "diagnostic",
    "diagnostic testing": "diagnostic",
    "physical therapy": "physical medicine",
    "chiropractic": "physical medicine",
    "acupuncture": "physical medicine",
    "injection": "injections",
    "durable medical equipment": "DMEPOS",
    "consultation": "evaluation and management",
    "office visit": "evaluation and management",
    "psychological services": "behavioral health",
    "functional restoration": "programs",
}


def category_family(category: str) -> str:
    """The DWC family of a category ("diagnostic/imaging" -> "diagnostic"), old names too."""
    if category in CATEGORIES:
        return category.partition("/")[0]
    family = _LEGACY_FAMILY.get(category, category)
    if family not in CATEGORY_FAMILIES:
        raise ValueError(f"unknown service category {category!r}")
    return family


CATEGORY_FAMILIES = tuple(dict.fromkeys(c.partition("/")[0] for c in CATEGORIES))

# Older flat names with one category today (filters in old links: "?category=imaging").
_LEGACY_CATEGORY = {
    "medication": CATEGORY_MEDICATION,
    "imaging": "diagnostic/imaging",
    "laboratory": "diagnostic/lab",
    "physical therapy": "physical medicine/physical therapy",
    "chiropractic": "physical medicine/chiropractic",
    "acupuncture": "physical medicine/acupuncture",
    "injection": "injections",
    "durable medical equipment": "DMEPOS",
    "consultation": "evaluation and management/consultation",
    "office visit": "evaluation and management/office visit",
    "psychological services": "behavioral health",
    "functional restoration": "programs",
}


def normalize_category(value: str) -> str | None:
    """The category a filter value names: itself, an older flat name, or a subcategory name
    ("lab" -> "diagnostic/lab"); None when it names none or several ("diagnostic")."""
    key = " ".join(value.split()).casefold()
    by_name = {c.casefold(): c for c in CATEGORIES}
    by_sub = {c.rpartition("/")[2].casefold(): c for c in CATEGORIES if "/" in c}
    by_sub.pop("other", None)  # "diagnostic/other": "other" is a category of its own
    return by_name.get(key) or _LEGACY_CATEGORY.get(key) or by_sub.get(key)


class _Phrases(NamedTuple):
    stems: frozenset[str] | None  # first two letters of every phrase; None: a "*..." phrase
    loose: re.Pattern[str] | None  # the case-insensitive phrases, over lowercase text
    exact: re.Pattern[str] | None  # the case-sensitive ("=") phrases, over the text as written

    def search(self, lower: str, original: str, stems: set[str]) -> bool:
        """True when one of the phrases occurs."""
        if self.stems is not None and self.stems.isdisjoint(stems):
            return False
        return bool(
            (self.loose and self.loose.search(lower))
            or (self.exact and self.exact.search(original))
        )


def _phrase(phrase: str) -> str:
    """The pattern of a categories.json phrase over a text's words joined by single spaces."""
    body = phrase.removeprefix("=")
    words = _PIECE().findall(body if phrase.startswith("=") else body.lower())
    star = "[A-Za-z]*" if phrase.startswith("=") else "[a-z]*"
    head, tail = star if body.startswith("*") else "", star if body.endswith("*") else ""
    return head + " ".join(map(re.escape, words)) + tail


def _phrases(phrases: list[str]) -> _Phrases:
    """The compiled matcher of a list of phrases."""
    stems = {_PIECE().findall(p.lower())[0][:2] for p in phrases if not p.startswith("*")}
    loose = [_phrase(p) for p in phrases if not p.startswith("=")]
    exact = [_phrase(p) for p in phrases if p.startswith("=")]
    loose_rx, exact_rx = (
        re.compile(f" (?:{'|'.join(p)})(?= )") if p else None for p in (loose, exact)
    )
    wild = any(p.startswith("*") for p in phrases)
    return _Phrases(None if wild else frozenset(stems), loose_rx, exact_rx)


_Rule = tuple[str | None, _Phrases, _Phrases | None]


@cache
def _rules() -> tuple[_Rule, ...]:
    """(category or None for "a drug was found", its phrases, its "unless" phrases)."""
    out: list[_Rule] = []
    for rule in read_json("categories.json")["rules"]:
        category = None if rule.get("drug") else rule["category"]
        if category is not None and category not in CATEGORIES:
            raise ValueError(f"categories.json: unknown category {category!r}")
        unless = _phrases(rule["unless"]) if rule.get("unless") else None
        out.append((category, _phrases(rule.get("phrases", [])), unless))
    return tuple(out)


def categorize(text: str, drug: str | None) -> str:
    """The service category of a request (one of fields.CATEGORIES), given its drug if any."""
    original = " " + " ".join(_PIECE().findall(text)) + " "
    lower = original.lower()
    if " release " in lower:
        lower = _RELEASE_WORDS().sub(" ", lower)  # "extended release" is a tablet, not a surgery
    stems = {w[:2] for w in lower.split()}
    for category, phrases, unless in _rules():
        if category is None:
            if drug:
                return CATEGORY_MEDICATION
        elif phrases.search(lower, original, stems) and not (
            unless and unless.search(lower, original, stems)
        ):
            if drug and is_topical(text):  # (only rules before the drug rule get here with one)
                return CATEGORY_MEDICATION  # a procedure word in a cream's list of ingredients
            return category
    return CATEGORY_OTHER
