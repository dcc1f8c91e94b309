"""Service categories of requests."""

from __future__ import annotations

import re
from functools import cache

from ..fields import CATEGORIES
from .drugs import is_topical
from .lexicon import Rx, read_json

_PIECE = Rx(r"[A-Za-z]+|[0-9]+|%")
_RELEASE_WORDS = Rx(r" (?:extended|sustained|controlled|immediate|delayed) release ")


def _phrase(phrase: str) -> str:
    """The pattern of a categories.json phrase over a text's words joined by single spaces."""
    body = phrase.removeprefix("=")
    words = _PIECE().findall(body if phrase.startswith("=") else body.lower())
    star = "[A-Za-z]*" if phrase.startswith("=") else "[a-z]*"
    head, tail = star if body.startswith("*") else "", star if body.endswith("*") else ""
    return head + " ".join(map(re.escape, words)) + tail


_Rule = tuple[str | None, frozenset[str] | None, re.Pattern[str] | None, re.Pattern[str] | None]


@cache
def _rules() -> tuple[_Rule, ...]:
    """(category, first two letters of its phrases, pattern of lowercase phrases, of exact ones)."""
    out: list[_Rule] = []
    for rule in read_json("categories.json")["rules"]:
        category = None if rule.get("drug") else rule["category"]
        if category is not None and category not in CATEGORIES:
            raise ValueError(f"categories.json: unknown category {category!r}")
        phrases = rule.get("phrases", [])
        stems = {_PIECE().findall(p.lower())[0][:2] for p in phrases if not p.startswith("*")}
        loose = [_phrase(p) for p in phrases if not p.startswith("=")]
        exact = [_phrase(p) for p in phrases if p.startswith("=")]
        loose_rx, exact_rx = (
            re.compile(f" (?:{'|'.join(p)})(?= )") if p else None for p in (loose, exact)
        )
        wild = any(p.startswith("*") for p in phrases)
        out.append((category, None if wild else frozenset(stems), loose_rx, exact_rx))
    return tuple(out)


def categorize(text: str, drug: str | None) -> str:
    """The service category of a request (one of fields.CATEGORIES), given its drug if any."""
    original = " " + " ".join(_PIECE().findall(text)) + " "
    lower = original.lower()
    if " release " in lower:
        lower = _RELEASE_WORDS().sub(" ", lower)  # "extended release" is a tablet, not a surgery
    if drug and is_topical(text):
        return "medication"  # "... Hyaluronic acid 0.2% cream" is a compound, not an injection
    stems = {w[:2] for w in lower.split()}
    for category, firsts, loose, exact in _rules():
        if category is None:
            if drug:
                return "medication"
        elif firsts is not None and firsts.isdisjoint(stems):
            continue
        elif (loose and loose.search(lower)) or (exact and exact.search(original)):
            return category
    return "other"
