"""Guideline sources cited in a rationale, and the pages cited."""

from __future__ import annotations

import re
from functools import cache

from .lexicon import WORD, Rx, read_json, wordset

_COMMON_WORDS = wordset(
    "guidelines guideline treatment medical pain practice of and the american official work"
)
_NON_BEFORE = Rx(r"non[-\s]*$")
_PAGE_ITEM = r"\d{1,3}(?:\s*[-–—]\s*\d{1,3})?"
_PAGE_LIST_SEP = Rx(r"\s*(?:,|and|&)\s*")
_PAGE_DASH = Rx(r"\s*[-–—]\s*")
_PAGES = Rx(  # "(?<![a-z])p..." written "p(?<![a-z]p)...": a search skips from p to p
    rf"p(?<![a-z]p)(?:age\s*\(s\)|ages?|gs?|p?)\.?\s*:?\s*"
    rf"({_PAGE_ITEM}(?:\s*(?:,|and|&)\s*{_PAGE_ITEM})*)(?![\d/])(?!\s*of\s+\d)"
)


@cache
def _guidelines() -> tuple[tuple[str, tuple[tuple[str, re.Pattern[str], int], ...]], ...]:
    """Per source, its names grouped by a distinctive word: (word, pattern, window)."""
    out = []
    for source, names in read_json("guidelines.json")["sources"].items():
        groups: dict[str, list[str]] = {}
        for name in names:
            words = WORD().findall(name.lower())
            key = max([w for w in words if w not in _COMMON_WORDS] or words, key=len)
            groups.setdefault(key, []).append(r"\s+".join(map(re.escape, name.lower().split())))
        keyed = []
        for key, bodies in groups.items():  # (?<![a-z]) after the first letter: a fast search
            alts = [f"{b[0]}(?<![a-z]{b[0]}){b[1:]}" if b[:1].isalpha() else f"(?<![a-z]){b}"
                    for b in sorted(bodies, key=len, reverse=True)]  # fmt: skip
            pattern = re.compile(rf"(?:{'|'.join(alts)})s?(?![a-z])")
            keyed.append((key, pattern, 4 * max(map(len, bodies)) + 40))
        out.append((source, tuple(keyed)))
    return tuple(out)


def _negated(lower: str, start: int) -> bool:
    """True for "Non-MTUS" and "did not base their decision on the MTUS"."""
    before = lower[max(0, start - 160) : start]
    if _NON_BEFORE().search(before[-8:]):
        return True
    sentence = before[before.rfind(".") + 1 :]
    return "not base" in sentence or "not rely" in sentence


def _cited(lower: str, key: str, pattern: re.Pattern[str], window: int) -> bool:
    """True when a name of a guideline occurs, not negated (found by its distinctive word)."""
    at = lower.find(key)
    while at >= 0:
        end = min(len(lower), at + window)
        for m in pattern.finditer(lower, max(0, at - window), end):
            if (m.end() < end or end == len(lower)) and not _negated(lower, m.start()):
                return True
        at = lower.find(key, end)
    return False


def guideline_sources(text: str) -> tuple[str, ...]:
    """The guideline sources cited ("MTUS", "ODG", "ACOEM"), in that order."""
    lower = text.lower()
    out: list[str] = []
    for source, keyed in _guidelines():
        for key, pattern, window in keyed:
            if key in lower and _cited(lower, key, pattern, window):
                out.append(source)
                break
    return tuple(out)


def mtus_pages(text: str) -> tuple[str, ...]:
    """Page numbers and ranges cited ("Page(s): 78, 91" -> ("78", "91")), in order."""
    out: list[str] = []
    for m in _PAGES().finditer(text.lower()):  # (a fast search: _PAGES opens with a plain "p")
        out += [_PAGE_DASH().sub("-", item) for item in _PAGE_LIST_SEP().split(m[1])]
    return tuple(dict.fromkeys(out))
