"""Finding words fast in letter text: case folding for substring prefilters, and regex
matching tried only where a word occurs (the later stages' shared helpers)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# Letters that re.IGNORECASE equates with an ASCII one but str.lower() does not lower to it:
# dotless i, long s, and the dot that "İ".lower() leaves after its "i".
_FOLD_EXTRA = str.maketrans({"\u0131": "i", "\u017f": "s", "\u0307": None})


def fold(text: str) -> str:
    """Lowercase for substring tests before case-insensitive regexes: whenever such a regex
    matches an ASCII word, the word is in the folded text."""
    low = text.lower()
    if low.isascii() or not ("\u0131" in low or "\u017f" in low or "\u0307" in low):
        return low
    return low.translate(_FOLD_EXTRA)  # slow: str.translate of non-ASCII goes char by char


def lower_in_place(text: str, low: str | None = None) -> str | None:
    """text.lower() (or `low`, when already made) when it keeps every character in place and
    holds an ASCII letter exactly where re.IGNORECASE matches one in text: unless "İ", "ı" or
    "ſ" is in text (the Kelvin sign, the only other character to lower to ASCII, re.I takes
    for "k"); else None."""
    if not text.isascii() and ("\u0130" in text or "\u0131" in text or "\u017f" in text):
        return None
    return text.lower() if low is None else low


def places(low: str, *words: str) -> list[int]:
    """Where the words occur in a (lowercase) text, in order."""
    out: list[int] = []
    for word in words:
        at = low.find(word)
        while at >= 0:
            out.append(at)
            at = low.find(word, at + 1)
    return sorted(out) if len(words) > 1 else out


def matches_at(
    pattern: re.Pattern[str], text: str, starts: Iterable[int]
) -> Iterator[re.Match[str]]:
    """pattern.finditer(text), given every place where a match may start, in order (matches
    are never empty): only those places are tried."""
    end = 0
    for at in starts:
        if at >= end and (m := pattern.match(text, at)):
            yield m
            end = m.end()


def ifinditer(pattern: re.Pattern[str], text: str, *words: str) -> Iterator[re.Match[str]]:
    """pattern.finditer(text), for a case-insensitive pattern each of whose matches opens with
    one of the (lowercase ASCII) words: only their places are tried (see lower_in_place)."""
    return ifinditer_low(pattern, text, lower_in_place(text), *words)


def ifinditer_low(
    pattern: re.Pattern[str], text: str, low: str | None, *words: str
) -> Iterator[re.Match[str]]:
    """ifinditer, given lower_in_place(text)."""
    if low is None:
        return pattern.finditer(text)
    return matches_at(pattern, text, places(low, *words))
