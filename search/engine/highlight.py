"""Highlighted passages: HTML-escaped text where our own <mark> is the only markup."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from typing import Final

MAX_SCAN_CHARS: Final = 60_000  # a passage search never reads more of one text
PASSAGE_CHARS: Final = 220
MAX_PASSAGES: Final = 3
MAX_MARKS: Final = 300  # candidate windows considered per text

_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class Terms:
    """What to mark: words, adjacent word pairs ("low back"), and prefixes."""

    words: frozenset[str] = frozenset()
    pairs: frozenset[tuple[str, str]] = frozenset()
    prefixes: tuple[str, ...] = ()

    @classmethod
    def of(cls, items: Iterable[str]) -> Terms:
        """From query highlight terms: "word", "low back", "pre*"."""
        words: set[str] = set()
        pairs: set[tuple[str, str]] = set()
        prefixes: list[str] = []
        for item in items:
            if item.endswith("*"):
                prefixes.append(item[:-1])
            elif " " in item:
                a, _, b = item.partition(" ")
                pairs.add((a, b))
            else:
                words.add(item)
        return cls(frozenset(words), frozenset(pairs), tuple(prefixes))

    def __bool__(self) -> bool:
        return bool(self.words or self.pairs or self.prefixes)


def _words(terms: Terms) -> set[str]:
    """Every whole word a mark may fall on: the words and both words of each pair."""
    return set(terms.words) | {w for pair in terms.pairs for w in pair}


@lru_cache(maxsize=256)
def _pattern(terms: Terms) -> re.Pattern[str]:
    """One regex finding every word that may need a mark (C-speed scanning)."""
    parts = sorted((re.escape(w) for w in _words(terms)), key=len, reverse=True)
    parts += [re.escape(p) + r"[^\W_]*" for p in terms.prefixes]
    return re.compile(r"(?<![^\W_])(?:" + "|".join(parts) + r")(?![^\W_])", re.IGNORECASE)


@lru_cache(maxsize=256)
def _ascii_pattern(terms: Terms) -> re.Pattern[str] | None:
    """The same words for lowercased ASCII text: case-sensitive and without the look-behind
    (checked per match), several times faster; None unless every term is ASCII letters and
    digits (then a rejected match cannot hide one starting inside it)."""
    words = _words(terms)
    if not all(w.isascii() and w.isalnum() for w in (*words, *terms.prefixes)):
        return None
    parts = sorted((w.lower() for w in words), key=len, reverse=True)
    parts += [p.lower() + "[^\\W_]*" for p in terms.prefixes]
    return re.compile("(?:" + "|".join(parts) + ")(?![^\\W_])")


def _tokens(text: str, terms: Terms) -> Iterator[tuple[int, int, str]]:
    """(start, end, lowercased word) of every token that may need a mark, in order."""
    fast = _ascii_pattern(terms) if text.isascii() else None
    if fast is None:
        for m in _pattern(terms).finditer(text):
            yield m.start(), m.end(), m.group().lower()
        return
    low = text.lower()  # (ASCII: the same length, so offsets hold)
    for m in fast.finditer(low):
        start = m.start()
        if not (start and low[start - 1].isalnum()):  # the look-behind: a token's start
            yield start, m.end(), m.group()


_GAP = re.compile(r"[\W_]*")


def _marked_spans(text: str, terms: Terms) -> list[tuple[int, int, str]]:
    """(start, end, word) of every token to mark, in order."""
    spans: list[tuple[int, int, str]] = []
    prev: tuple[int, int, str] | None = None
    prev_marked = False
    prefixes = terms.prefixes
    for tok in _tokens(text, terms):
        word = tok[2]
        hit = word in terms.words or (bool(prefixes) and word.startswith(prefixes))
        if (
            prev is not None
            and (prev[2], word) in terms.pairs
            and _GAP.fullmatch(text, prev[1], tok[0])
        ):
            if not prev_marked:
                spans.append(prev)
            hit = True
        if hit:
            spans.append(tok)
        prev, prev_marked = tok, hit
    return spans


def _render(text: str, start: int, end: int, spans: list[tuple[int, int, str]]) -> str:
    """Escaped text[start:end] with the spans inside it wrapped in <mark>."""
    out: list[str] = ["…" if start > 0 else ""]
    pos = start
    merged: list[list[int]] = []
    for s, e, _ in spans:
        if s < start or e > end:
            continue
        if merged and not text[merged[-1][1] : s].strip():  # "low back pain": one mark
            merged[-1][1] = e
        else:
            merged.append([s, e])
    for s, e in merged:
        out.append(escape(text[pos:s]))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        pos = e
    out.append(escape(text[pos:end]))
    if end < len(text):
        out.append("…")
    return "".join(out)


def highlight(
    text: str,
    terms: Terms,
    *,
    passages: int = MAX_PASSAGES,
    width: int = PASSAGE_CHARS,
) -> list[str]:
    """The best passages of text for the terms, best first ([] when nothing matches)."""
    if not terms or not text:
        return []
    text = " ".join(text[:MAX_SCAN_CHARS].split())  # one line; bounded work on long texts
    spans = _marked_spans(text, terms)[:MAX_MARKS]
    if not spans:
        return []
    candidates = windows(len(text), spans, width)
    candidates.sort(key=lambda c: (-c[0], c[1]))
    chosen: list[tuple[int, int]] = []
    for _score, start, end in candidates:
        if any(start < ce and end > cs for cs, ce in chosen):
            continue
        chosen.append((start, end))
        if len(chosen) == passages:
            break
    return [_render(text, *_snap(text, s, e), spans) for s, e in chosen]


def windows(
    length: int, spans: list[tuple[int, int, str]], width: int
) -> list[tuple[float, int, int]]:
    """(score, start, end) of a candidate window per span: starting a little before it, scored
    by the distinct words inside, then by the marks inside."""
    # Spans are in text order and never overlap, so a window's spans are one run of them,
    # found by bisection (a scan of every span per window was quadratic in the marks).
    starts = [s for s, _e, _w in spans]
    ends = [e for _s, e, _w in spans]
    candidates: list[tuple[float, int, int]] = []
    for s in starts:
        start = max(0, s - width // 4)
        end = min(length, start + width)
        words = [w for _s, _e, w in spans[bisect_left(starts, start) : bisect_right(ends, end)]]
        candidates.append((len(set(words)) + 0.01 * len(words), start, end))
    return candidates


def mark_all(text: str, terms: Terms) -> str:
    """The whole text escaped, every query word in it wrapped in <mark> (for reading a letter)."""
    if not terms or not text:
        return escape(text)
    return _render(text, 0, len(text), _marked_spans(text, terms))


def _snap(text: str, start: int, end: int) -> tuple[int, int]:
    """Move window edges to word boundaries."""
    if start > 0:
        space = text.find(" ", start)
        if 0 <= space < start + 30:
            start = space + 1
    if end < len(text):
        space = text.rfind(" ", start, end)
        if space > start + 30:
            end = space
    return start, end
