"""Evaluating Whoosh query objects over numpy arrays: boolean masks and BM25 scores.

The engine does not run Whoosh's matchers (one Python call per posting); it reads whole
posting lists per segment and combines them as dense arrays. Terms of letter-level fields
are indexed once per letter (on its primary document) and spread here to every decision of
the letter, so `summary:x AND request:y` needs both in one decision's letter.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, Final

import numpy as np
from whoosh import query as wq

from ..results import QueryError
from ..schema import BIGRAM_SUFFIX, LETTER_TEXT_FIELDS, TEXT_FIELDS
from ._codec import LENGTH_TABLE
from .parallel import each
from .segments import (
    BoolArray,
    FloatArray,
    Int32Array,
    IntArray,
    SegmentData,
    field_lengths,
    postings,
)

K1: Final = 1.2
B: Final = 0.75
MAX_PREFIX_TERMS: Final = 300  # words one prefix may expand to
CACHE_BYTES: Final = 256 * 1024 * 1024  # decoded posting lists kept between searches
# BM25 scores of words kept between searches: apart from the lists, so keeping scores never
# pushes out a long list (decoding one costs more than scoring it)
SCORE_CACHE_BYTES: Final = 64 * 1024 * 1024
CACHE_MIN: Final = 0  # lists shorter than this are not kept (absent words are: lookups cost)
CACHE_ENTRY: Final = 256  # bytes of bookkeeping counted per kept list
# Added to the score of a decision whose own text (request, rationale) matched: a letter
# ranks by its best decision, and own-text matches come before letter-text-only ones.
OWN_TIER: Final = 1000.0
TABLE_MIN: Final = 4096  # postings from which BM25 is one lookup per posting in _table
TABLE_TF: Final = 256  # term counts the table holds (one byte, beside the length's byte)
SPARSE_SPREAD: Final = 16  # letter scores spread per run when under 1 in 16 letters scored


_Part = tuple[IntArray | Int32Array, FloatArray, bool]  # (doc or letter ids, scores, letter-level)
# (segment, field, word): its decoded postings; with (boost, idf, average length) after them:
# its BM25 scores, which those three decide (a commit that changes them makes a new key)
_Key = tuple[str, str, str] | tuple[str, str, str, float, float, float]
_NO_SCORE: Final[FloatArray] = np.zeros(0, dtype=np.float32)  # the scores of a facet term's ids


class SearchTimeout(QueryError):
    """A search ran past its time limit."""


def _spread(lscore: FloatArray, data: SegmentData, score: FloatArray, postings: int) -> None:
    """Add each letter's score to its documents' scores: one gather over every document, or,
    when few letters scored (at most `postings`), only over their documents (runs of
    consecutive docnums)."""
    if postings * SPARSE_SPREAD >= data.letters:
        score += np.take(lscore, data.letter)  # (np.take: a third faster than lscore[...])
        return
    letters = np.flatnonzero(lscore > 0)  # (scores are not negative; faster than != 0)
    first = data.starts[letters]
    ends = data.starts[np.minimum(letters + 1, data.letters - 1)]
    ends[letters + 1 == data.letters] = data.n  # (the last letter runs to the segment's end)
    counts = ends - first
    # docnums of the runs: each run's first docnum, then +1 per document within the run
    docs = np.repeat(first - (np.cumsum(counts) - counts), counts)
    docs += np.arange(len(docs))
    score[docs] += np.repeat(lscore[letters], counts)


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


class PostingCache:
    """Decoded long posting lists (or words' scores), least recently used first out, within
    a byte budget.

    Common words ("pain", "medically") are in most queries; decoding their lists is most of
    a search's cost, and a segment's lists never change.
    """

    def __init__(self, budget_bytes: int = CACHE_BYTES, min_postings: int = CACHE_MIN) -> None:
        self.budget = budget_bytes
        self.min_postings = min_postings
        self.used = 0
        self.items: OrderedDict[_Key, tuple[IntArray, FloatArray]] = OrderedDict()
        self.sizes: dict[_Key, int] = {}  # bytes counted for each item
        self._guard = threading.Lock()  # held for a dictionary operation, never a search

    def get(self, key: _Key) -> tuple[IntArray, FloatArray] | None:
        with self._guard:
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
            return found

    def put(self, key: _Key, value: tuple[IntArray, FloatArray], nbytes: int | None = None) -> None:
        """Keep a value; nbytes: what it adds to memory (default: both arrays' bytes)."""
        if len(value[0]) < self.min_postings:
            return
        size = (value[0].nbytes + value[1].nbytes if nbytes is None else nbytes) + CACHE_ENTRY
        with self._guard:
            if key in self.items:
                return
            self.items[key] = value
            self.sizes[key] = size
            self.used += size
            while self.used > self.budget and self.items:
                old, _ = self.items.popitem(last=False)
                self.used -= self.sizes.pop(old)

    def retain(self, segids: set[str]) -> None:
        """Forget the lists of segments no longer in the index."""
        with self._guard:
            for key in [k for k in self.items if k[0] not in segids]:
                del self.items[key]
                self.used -= self.sizes.pop(key)


class Evaluator:
    """Evaluates one query over the segments of one reader."""

    def __init__(
        self,
        reader: Any,
        leaves: list[Leaf],
        deadline: float,
        cache: PostingCache | None = None,
        scores: PostingCache | None = None,
    ) -> None:
        self.reader = reader
        self.cache = cache
        self.scores = scores  # BM25 scores of (segment, field, word, boost, idf, average)
        self.leaves = leaves
        self.deadline = deadline
        self.postings: dict[tuple[str, str], list[tuple[IntArray, FloatArray]]] = {}
        self.df: dict[tuple[str, str], int] = {}
        self.expansions: dict[tuple[str, str], list[str]] = {}
        self.n_docs = sum(leaf.data.n for leaf in leaves)
        self.n_letters = sum(leaf.data.letters for leaf in leaves)
        self._avg: dict[str, float] = {}
        self._norms: dict[str, FloatArray] = {}
        self._tables: dict[tuple[str, float], FloatArray] = {}

    def check_time(self) -> None:
        """Raise SearchTimeout past the deadline."""
        if time.monotonic() > self.deadline:
            raise SearchTimeout("The search took too long; try fewer or more specific words.")

    def prepare(self, q: wq.Query, threads: int = 1) -> None:
        """Read the posting lists of every term of the query (and expand prefixes), the
        segments' lists on up to `threads` threads."""
        keys: list[tuple[str, str]] = []
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
                keys.extend((leaf.fieldname, word) for word in self.expansions[key])
            else:
                keys.append((leaf.fieldname, str(leaf.text)))
        keys = [k for k in dict.fromkeys(keys) if k not in self.postings]
        per_seg = each(lambda i: [self._load(i, *key) for key in keys], len(self.leaves), threads)
        for k, key in enumerate(keys):
            self.postings[key] = lists = [seg[k] for seg in per_seg]
            self.df[key] = sum(len(ids) for ids, _ in lists)

    def _load(self, i: int, fieldname: str, text: str) -> tuple[IntArray, FloatArray]:
        """A term's decoded postings in segment i (kept in the cache)."""
        self.check_time()
        leaf = self.leaves[i]
        ckey = (leaf.segid, fieldname, text)
        found = self.cache.get(ckey) if self.cache is not None else None
        if found is None:
            found = postings(leaf.reader, fieldname, text)
            if self.cache is not None:
                self.cache.put(ckey, found)
        return found

    def avg_length(self, fieldname: str) -> float:
        """Average token count of a text field over the documents that carry it."""
        if fieldname not in self._avg:
            total = float(self.reader.field_length(fieldname) or 0)
            count = self.n_letters if is_letter_field(fieldname) else self.n_docs
            self._avg[fieldname] = max(1.0, total / max(1, count))
        return self._avg[fieldname]

    def _norm(self, fieldname: str) -> FloatArray:
        """BM25's length normalization of a text field per one-byte length code."""
        found = self._norms.get(fieldname)
        if found is None:
            avg = self.avg_length(fieldname)
            found = self._norms[fieldname] = K1 * (1.0 - B + B * LENGTH_TABLE / avg)
        return found

    def _table(self, fieldname: str, factor: float) -> FloatArray:
        """BM25 scores of term counts 0..TABLE_TF-1 (rows) by length code (columns), flat."""
        key = (fieldname, factor)
        found = self._tables.get(key)
        if found is None:
            tf = np.arange(TABLE_TF, dtype=np.float32)[:, None]
            norm = self._norm(fieldname)[None, :] + tf
            values = factor * tf
            values *= K1 + 1.0
            found = self._tables[key] = (values / norm).ravel()
        return found

    def evaluate(self, q: wq.Query, i: int) -> tuple[BoolArray, FloatArray]:
        """(matching mask, score) over segment i's documents; a document whose own (decision)
        text matched scores OWN_TIER more, so it ranks before letter-text-only matches."""
        mask, score, own = self._eval(q, i)
        own &= mask
        if own.any():  # (score is this evaluation's own array)
            # own * OWN_TIER added everywhere: a ufunc `where=` mask is ~15x slower
            score += own * np.float32(OWN_TIER)
        return mask, score

    def _eval(self, q: wq.Query, i: int) -> tuple[BoolArray, FloatArray, BoolArray]:
        """(matching mask, score, matched by the document's own text) in segment i."""
        n = self.leaves[i].data.n
        if isinstance(q, wq.Term | wq.Prefix):
            return self._dense(self._sparse(q, i), i)
        if isinstance(q, wq.Every):
            return np.ones(n, dtype=bool), np.zeros(n, dtype=np.float32), np.zeros(n, dtype=bool)
        if isinstance(q, wq.Not):
            m, _, _ = self._eval(q.query, i)
            return ~m, np.zeros(n, dtype=np.float32), np.zeros(n, dtype=bool)
        if isinstance(q, wq.Or):
            # Words of an OR (synonyms: often dozens, most absent from a segment) are
            # scattered into one pair of arrays instead of one pair each.
            words = [sub for sub in q.subqueries if isinstance(sub, wq.Term | wq.Prefix)]
            mask, score, own = self._dense([p for w in words for p in self._sparse(w, i)], i)
            for sub in q.subqueries:
                if not isinstance(sub, wq.Term | wq.Prefix):
                    m, s, o = self._eval(sub, i)
                    mask |= m
                    score += s
                    own |= o
            return mask, score, own
        if isinstance(q, wq.And) and q.subqueries:
            # The first part's arrays (this evaluation's own) start the result.
            mask, score, own = self._eval(q.subqueries[0], i)
            for sub in q.subqueries[1:]:
                m, s, o = self._eval(sub, i)
                mask &= m
                score += s
                own |= o
            score *= mask  # (scores are finite and not negative: x * 0 is 0, x * 1 is x)
            own &= mask
            return mask, score, own
        if isinstance(q, wq.And):
            return np.ones(n, dtype=bool), np.zeros(n, dtype=np.float32), np.zeros(n, dtype=bool)
        if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            zeros = np.zeros(n, dtype=bool)
            return zeros, np.zeros(n, dtype=np.float32), zeros.copy()
        raise QueryError(f"Unsupported query part: {type(q).__name__}.")

    def _dense(self, parts: list[_Part], i: int) -> tuple[BoolArray, FloatArray, BoolArray]:
        """Scatter sparse term matches into (mask, score, own); letter-level ones reach every
        decision of their letter, and only decision-level text ones count as own.

        A text term's BM25 score is above 0, so the documents (letters) a text term matched
        are those with a score: only the scores are scattered, the first term's written.
        """
        data = self.leaves[i].data
        score = np.zeros(data.n, dtype=np.float32)
        lscore: FloatArray | None = None
        facet: BoolArray | None = None
        fresh = lfresh = True
        lpostings = 0
        for ids, values, letter_level in parts:
            if letter_level:
                lpostings += len(ids)
                if lscore is None:
                    lscore = np.zeros(data.letters, dtype=np.float32)
                if lfresh:
                    lscore[ids] = values
                    lfresh = False
                else:
                    lscore[ids] += values
            elif values is _NO_SCORE:  # facet terms filter; they are not text and do not rank
                if facet is None:
                    facet = np.zeros(data.n, dtype=bool)
                facet[ids] = True
            elif fresh:
                score[ids] = values
                fresh = False
            else:
                score[ids] += values
        own = score > 0
        if lscore is not None:
            # The letters' scores spread to their documents; scores are finite and not
            # negative, so a document matched (its own text or its letter's) exactly where
            # its sum is > 0.
            _spread(lscore, data, score, lpostings)
            mask = score > 0
        else:
            mask = own.copy()
        if facet is not None:
            mask |= facet
        return mask, score, own

    def _sparse(self, q: wq.Query, i: int) -> list[_Part]:
        """(ids, scores, letter-level) of a Term, or of each word of a Prefix, in segment i."""
        if isinstance(q, wq.Prefix):
            words = self.expansions.get((q.fieldname, q.text), ())
            return [p for w in words for p in self._term(q.fieldname, w, q.boost, i)]
        return self._term(q.fieldname, str(q.text), q.boost, i)

    def _term(self, fieldname: str, text: str, boost: float, i: int) -> list[_Part]:
        leaf = self.leaves[i]
        data = leaf.data
        ids, weights = self.postings[(fieldname, text)][i]
        if not len(ids):
            return []
        if ids[-1] >= data.n:  # (postings are ascending and never point past the segment)
            keep = ids < data.n
            ids, weights = ids[keep], weights[keep]
        base = base_field(fieldname)
        if base not in TEXT_FIELDS:  # facet terms filter; they do not rank
            return [(ids, _NO_SCORE, False)]
        letter_level = base in LETTER_TEXT_FIELDS
        total = self.n_letters if letter_level else self.n_docs
        df = self.df[(fieldname, text)]
        idf = math.log(1.0 + (total - df + 0.5) / (df + 0.5))
        # Common words come back query after query: their scores are kept (in `scores`)
        skey = (leaf.segid, fieldname, text, float(boost), idf, self.avg_length(base))
        scored = self.scores.get(skey) if self.scores is not None else None
        if scored is None:
            scored = self._bm25(leaf, base, ids, weights, boost * idf, letter_level)
            for array in scored:  # shared by later searches: never written
                array.flags.writeable = False
            if self.scores is not None:  # (a decision field's ids are the postings' own)
                self.scores.put(skey, scored, scored[1].nbytes + letter_level * scored[0].nbytes)
        return [(scored[0], scored[1], letter_level)]

    def _bm25(
        self,
        leaf: Leaf,
        base: str,
        ids: IntArray,
        weights: FloatArray,
        factor: float,
        letter_level: bool,
    ) -> tuple[IntArray, FloatArray]:
        """(ids, BM25 scores) of a text term's postings: letter ids for a letter-level field."""
        data = leaf.data
        lengths = data.lengths.get(base)
        if lengths is None:
            lengths = data.lengths[base] = field_lengths(leaf.reader, base)
        # BM25 in float32, computed as K1 * (1 - B + B * length / avg) and
        # boost * idf * tf * (K1 + 1) / (tf + norm): the norm of each of the 256 length codes
        # once, then per posting a lookup and three in-place operations; or, for a long
        # list of term counts under 256, the score of every (count, length code) pair once
        # (the same operations: the same float32 values) and per posting one lookup.
        codes = np.take(lengths.raw, ids)
        if len(ids) >= TABLE_MIN and float(weights.max()) < TABLE_TF:
            pair = weights.astype(np.uint16)
            pair <<= 8
            pair |= codes
            values: FloatArray = np.take(self._table(base, factor), pair)
        else:
            norm = np.take(self._norm(base), codes)
            norm += weights
            values = factor * weights
            values *= K1 + 1.0
            values /= norm
        if letter_level:  # indexed on the letter's primary document: address the letter
            return np.take(data.letter, ids), values
        return ids, values
