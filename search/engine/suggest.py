"""Did-you-mean: the closest frequent indexed word within two edits (a small SymSpell)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

import numpy as np

from ._codec import field_terms_df, term_table

MIN_DF: Final = 2  # words seen fewer times are likely typos themselves
MIN_LENGTH: Final = 4
MAX_DISTANCE: Final = 2
SPELL_FIELDS: Final = ("request", "rationale", "summary")  # the words corrections come from

_ALPHA = re.compile(r"[a-z]+")


def _deletes(word: str) -> set[str]:
    """The word with any one letter removed."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment)."""
    if a == b:
        return 0
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def segment_words(reader: Any) -> dict[str, int]:
    """{word: document frequency} of one segment's words a correction may use (cached per
    segment by the searcher: a segment never changes, so a commit rereads only new ones)."""
    out: dict[str, int] = {}
    for field in SPELL_FIELDS:
        raw, starts, lengths, dfs = term_table(reader, field)
        if not len(raw):  # an unmapped segment: term by term
            for word, df in field_terms_df(reader, field):
                if len(word) >= MIN_LENGTH and _ALPHA.fullmatch(word):
                    out[word] = out.get(word, 0) + df
            continue
        # Only words of MIN_LENGTH letters a-z, found with numpy: most terms are numbers,
        # codes and short words, and only the rest are decoded in Python.
        keep = lengths >= MIN_LENGTH
        starts, lengths, dfs = starts[keep], lengths[keep], dfs[keep]
        if not len(starts):
            continue
        ends = np.cumsum(lengths)
        at = (
            np.arange(int(ends[-1]))
            - np.repeat(ends - lengths, lengths)
            + np.repeat(starts, lengths)
        )
        byte = raw[at]
        lower = np.logical_and.reduceat((byte >= 97) & (byte <= 122), ends - lengths)
        for start, length, df in zip(
            starts[lower].tolist(), lengths[lower].tolist(), dfs[lower].tolist(), strict=True
        ):
            word = raw[start : start + length].tobytes().decode("ascii")
            out[word] = out.get(word, 0) + df
    return out


class Speller:
    """Corrections from a vocabulary of {word: document frequency}."""

    def __init__(self, vocabulary: Mapping[str, int]) -> None:
        self.df = {w: n for w, n in vocabulary.items() if n >= MIN_DF and _ALPHA.fullmatch(w)}
        self.index: dict[str, list[str]] = {}
        for word in self.df:
            if len(word) < MIN_LENGTH:
                continue
            for key in (word, *_deletes(word)):
                self.index.setdefault(key, []).append(word)

    def correct(self, word: str) -> str | None:
        """The best correction of word, or None when it is fine or nothing is close."""
        if len(word) < MIN_LENGTH or not _ALPHA.fullmatch(word):
            return None
        own = self.df.get(word, 0)
        keys = {word} | _deletes(word)
        keys |= {d2 for d in list(keys) for d2 in _deletes(d)} if len(word) > 5 else set()
        best: tuple[int, int, str] | None = None
        for key in keys:
            for cand in self.index.get(key, ()):
                if cand == word or self.df[cand] <= own * 10:
                    continue
                dist = distance(word, cand)
                if dist <= MAX_DISTANCE:
                    rank = (dist, -self.df[cand], cand)
                    if best is None or rank < best:
                        best = rank
        return best[2] if best else None


def suggest(text: str, words: Iterable[str], speller: Speller) -> str | None:
    """The query text with misspelled words replaced, or None when nothing changes."""
    out = text
    changed = False
    for word in words:
        fix = speller.correct(word)
        if fix:
            out = re.sub(rf"(?i)(?<![^\W_]){re.escape(word)}(?![^\W_])", fix, out)
            changed = True
    return out if changed else None
