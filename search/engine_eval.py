"""Evaluating Whoosh query objects over numpy arrays: boolean masks and BM25 scores.

The engine does not run Whoosh's matchers (one Python call per posting); it reads whole
posting lists per segment and combines them as dense arrays. Terms of letter-level fields
are indexed once per letter (on its primary document) and spread here to every decision of
the letter, so `summary:x AND request:y` needs both in one decision's letter.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, Final

import numpy as np
from whoosh import query as wq

from .engine_segments import BoolArray, FloatArray, IntArray, SegmentData, postings
from .results import QueryError
from .schema import BIGRAM_SUFFIX, LETTER_TEXT_FIELDS, TEXT_FIELDS

K1: Final = 1.2
B: Final = 0.75
MAX_PREFIX_TERMS: Final = 300  # words one prefix may expand to


class SearchTimeout(QueryError):
    """A search ran past its time limit."""


@dataclass
class Leaf:
    """One segment as the evaluator sees it."""

    reader: Any
    base: int  # docnum offset in the whole index
    data: SegmentData
    live: BoolArray
    segid: str


def base_field(fieldname: str) -> str:
    """The text field behind a word-pairs field ("rationale_2" -> "rationale")."""
    return fieldname[: -len(BIGRAM_SUFFIX)] if fieldname.endswith(BIGRAM_SUFFIX) else fieldname


def is_letter_field(fieldname: str) -> bool:
    """Whether a field is indexed once per letter, on the primary document."""
    return base_field(fieldname) in LETTER_TEXT_FIELDS


def leaf_terms(q: wq.Query) -> Iterator[wq.Query]:
    """Term and Prefix leaves of a query tree."""
    if isinstance(q, wq.Term | wq.Prefix):
        yield q
    elif isinstance(q, wq.CompoundQuery):
        for sub in q.subqueries:
            yield from leaf_terms(sub)
    elif isinstance(q, wq.Not):
        yield from leaf_terms(q.query)


class Evaluator:
    """Evaluates one query over the segments of one reader."""

    def __init__(self, reader: Any, leaves: list[Leaf], deadline: float) -> None:
        self.reader = reader
        self.leaves = leaves
        self.deadline = deadline
        self.postings: dict[tuple[str, str], list[tuple[IntArray, FloatArray]]] = {}
        self.df: dict[tuple[str, str], int] = {}
        self.expansions: dict[tuple[str, str], list[str]] = {}
        self.n_docs = sum(leaf.data.n for leaf in leaves)
        self.n_letters = sum(leaf.data.letters for leaf in leaves)
        self._avg: dict[str, float] = {}

    def check_time(self) -> None:
        """Raise SearchTimeout past the deadline."""
        if time.monotonic() > self.deadline:
            raise SearchTimeout("The search took too long; try fewer or more specific words.")

    def prepare(self, q: wq.Query) -> None:
        """Read the posting lists of every term of the query (and expand prefixes)."""
        for leaf in leaf_terms(q):
            if isinstance(leaf, wq.Prefix):
                key = (leaf.fieldname, leaf.text)
                if key not in self.expansions:
                    words = list(
                        islice(
                            self.reader.expand_prefix(leaf.fieldname, leaf.text),
                            MAX_PREFIX_TERMS + 1,
                        )
                    )
                    if len(words) > MAX_PREFIX_TERMS:
                        raise QueryError(
                            f"'{leaf.text}*' matches too many words; use a longer beginning."
                        )
                    self.expansions[key] = [
                        w.decode() if isinstance(w, bytes) else w for w in words
                    ]
                for word in self.expansions[key]:
                    self._load(leaf.fieldname, word)
            else:
                self._load(leaf.fieldname, str(leaf.text))

    def _load(self, fieldname: str, text: str) -> None:
        key = (fieldname, text)
        if key in self.postings:
            return
        per_seg = []
        for leaf in self.leaves:
            self.check_time()
            per_seg.append(postings(leaf.reader, fieldname, text))
        self.postings[key] = per_seg
        self.df[key] = sum(len(ids) for ids, _ in per_seg)

    def avg_length(self, fieldname: str) -> float:
        """Average token count of a text field over the documents that carry it."""
        if fieldname not in self._avg:
            total = float(self.reader.field_length(fieldname) or 0)
            count = self.n_letters if is_letter_field(fieldname) else self.n_docs
            self._avg[fieldname] = max(1.0, total / max(1, count))
        return self._avg[fieldname]

    def evaluate(self, q: wq.Query, i: int) -> tuple[BoolArray, FloatArray]:
        """(matching mask, score) over segment i's documents."""
        leaf = self.leaves[i]
        n = leaf.data.n
        if isinstance(q, wq.Term):
            return self._term(q.fieldname, str(q.text), q.boost, i)
        if isinstance(q, wq.Prefix):
            mask = np.zeros(n, dtype=bool)
            score = np.zeros(n, dtype=np.float32)
            for word in self.expansions.get((q.fieldname, q.text), ()):
                m, s = self._term(q.fieldname, word, q.boost, i)
                mask |= m
                score += s
            return mask, score
        if isinstance(q, wq.Every):
            return np.ones(n, dtype=bool), np.zeros(n, dtype=np.float32)
        if isinstance(q, wq.Not):
            m, _ = self.evaluate(q.query, i)
            return ~m, np.zeros(n, dtype=np.float32)
        if isinstance(q, wq.And | wq.Or):
            is_and = isinstance(q, wq.And)
            mask = np.ones(n, dtype=bool) if is_and else np.zeros(n, dtype=bool)
            score = np.zeros(n, dtype=np.float32)
            for sub in q.subqueries:
                m, s = self.evaluate(sub, i)
                if is_and:
                    mask &= m
                else:
                    mask |= m
                score += s
            score[~mask] = 0.0
            return mask, score
        if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            return np.zeros(n, dtype=bool), np.zeros(n, dtype=np.float32)
        raise QueryError(f"Unsupported query part: {type(q).__name__}.")

    def _term(
        self, fieldname: str, text: str, boost: float, i: int
    ) -> tuple[BoolArray, FloatArray]:
        leaf = self.leaves[i]
        data = leaf.data
        n = data.n
        ids, weights = self.postings[(fieldname, text)][i]
        mask = np.zeros(n, dtype=bool)
        score = np.zeros(n, dtype=np.float32)
        if not len(ids):
            return mask, score
        ids = ids[ids < n]
        weights = weights[: len(ids)]
        base = base_field(fieldname)
        if base in TEXT_FIELDS:
            letter_level = base in LETTER_TEXT_FIELDS
            total = self.n_letters if letter_level else self.n_docs
            df = self.df[(fieldname, text)]
            idf = math.log(1.0 + (total - df + 0.5) / (df + 0.5))
            lengths = data.lengths.get(base)
            if lengths is None:
                from .engine_segments import field_lengths

                lengths = data.lengths[base] = field_lengths(leaf.reader, base)
            norm = K1 * (1.0 - B + B * lengths[ids] / self.avg_length(base))
            values = (boost * idf * weights * (K1 + 1.0) / (weights + norm)).astype(np.float32)
        else:  # facet terms filter; they do not rank
            letter_level = False
            values = np.zeros(len(ids), dtype=np.float32)
        if letter_level:
            letters = data.letter[ids]
            lmask = np.zeros(data.letters, dtype=bool)
            lscore = np.zeros(data.letters, dtype=np.float32)
            lmask[letters] = True
            lscore[letters] = values
            return lmask[data.letter], lscore[data.letter]
        mask[ids] = True
        score[ids] = values
        return mask, score
