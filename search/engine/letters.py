"""Matching decisions grouped into letter rows, and a page's rows made into hits."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np

from ..fields import SECTION_CASE_SUMMARY, SECTION_ISSUE_AT_DISPUTE, SORT_RELEVANCE
from ..model import Determination
from ..results import DecisionHit, Hit
from .docs import letter_texts
from .evaluate import Leaf
from .highlight import Terms, highlight
from .hits import LetterRows, make_hit, page_order
from .segments import BoolArray, IntArray, SegmentData

Matches = Sequence[tuple[BoolArray, np.ndarray]]  # per segment: (matching documents, scores)
RecordOf = Callable[[Leaf, int], Determination]  # a letter's record by its primary document


def letter_span(data: SegmentData, letter: int) -> tuple[int, int]:
    """The documents [start, end) of one letter of a segment."""
    start = int(data.starts[letter])
    end = int(data.starts[letter + 1]) if letter + 1 < data.letters else data.n
    return start, end


def letter_rows(
    leaves: Sequence[Leaf], matches: Matches, top: int | None = None, sort: str = SORT_RELEVANCE
) -> tuple[LetterRows, int, int]:
    """Matching letters as rows (segment, letter, best score, date, key), the number of
    matching letters, and of matching decisions."""
    pairs = zip(leaves, matches, strict=True)
    return joined_rows([segment_rows(s, leaf, m, top, sort) for s, (leaf, m) in enumerate(pairs)])


SegmentRows = tuple[LetterRows | None, int, int]  # a segment's rows, letters, decisions


def segment_rows(
    s: int,
    leaf: Leaf,
    match: tuple[BoolArray, np.ndarray],
    top: int | None = None,
    sort: str = SORT_RELEVANCE,
) -> SegmentRows:
    """Segment s's matching letters as rows (None: none), their number, and the matching
    decisions'.

    With `top`, the segment keeps only its rows that can be among the first `top` in
    `sort` order (the rest cannot reach the page), so a broad query holds a page's worth
    of rows per segment, not a row per matching letter of the index.
    """
    mask, score = match
    docs = np.flatnonzero(mask)
    if not len(docs):
        return None, 0, 0
    data = leaf.data
    dense = len(docs) * 8 > data.n  # (then a pass over the mask beats a gather)
    decided = data.decided()
    decisions = int(np.count_nonzero(mask & decided if dense else decided[docs]))
    letter = np.take(data.letter, docs)  # (np.take: a third faster than data.letter[...])
    change = _changes(letter)
    letters = int(np.count_nonzero(change))
    if top is not None and sort == SORT_RELEVANCE and letters > top:
        # Only letters whose best decision is among the best-scored ones can reach
        # the page: their rows are made, not one per matching letter.
        docs, letter, starts = _best_docs(docs, letter, score, top)
    else:
        starts = np.flatnonzero(change)
    del change
    ids: IntArray = letter[starts].astype(np.int64)
    rows: LetterRows = (
        np.full(len(ids), s, dtype=np.int64),
        ids,
        np.maximum.reduceat(score[docs], starts),
        data.date[data.starts[ids]],
        data.lkey[data.starts[ids]],
    )
    del docs, letter, starts
    if top is not None and len(ids) > top:
        rows = select(rows, page_order(rows, sort, top))
    return rows, letters, decisions


def joined_rows(parts: Sequence[SegmentRows]) -> tuple[LetterRows, int, int]:
    """The segments' rows as one set of rows, the matching letters and decisions."""
    rows = [p[0] for p in parts if p[0] is not None]
    total, decisions = sum(p[1] for p in parts), sum(p[2] for p in parts)
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return (empty, empty, np.zeros(0, dtype=np.float32), empty, empty), 0, 0
    cat = np.concatenate
    columns = [cat([r[k] for r in rows]) for k in range(5)]
    return (columns[0], columns[1], columns[2], columns[3], columns[4]), total, decisions


def _changes(letter: np.ndarray) -> BoolArray:
    """True where a run of equal letter numbers starts."""
    change = np.empty(len(letter), dtype=bool)
    change[:1] = True
    np.not_equal(letter[1:], letter[:-1], out=change[1:])
    return change


SAMPLE_FROM = 1 << 15  # matching documents above which the threshold is first sampled
SAMPLE_SIZE = 1 << 12  # scores in that sample


def sampled_threshold(scores: np.ndarray, k: int) -> float | None:
    """A score that about 4k of the scores reach, estimated from an evenly strided sample
    (no partition of every score); None when too few scores for a sample to pay."""
    if len(scores) < SAMPLE_FROM:
        return None
    sample = scores[:: len(scores) // SAMPLE_SIZE]
    # rank in the sample of the 4k-th best score overall, and a margin (8 of 4,096)
    rank = -(-4 * k * len(sample) // len(scores)) + max(1, len(sample) // 512)
    if rank * 2 > len(sample):  # (most scores would pass: the sample saves nothing)
        return None
    return float(np.partition(sample, len(sample) - rank)[len(sample) - rank])


def _best_docs(
    docs: IntArray, letter: np.ndarray, score: np.ndarray, top: int
) -> tuple[IntArray, np.ndarray, IntArray]:
    """The matching documents scored at least some threshold that keeps at least `top`
    letters, with their letters and letter starts; the threshold is first sampled, then
    (if that kept too few) the k-th best score for the smallest k (from 4 * top, growing)
    at which they hold `top` letters.

    Exact: a letter outside them scores below every one of them, and at least `top`
    letters inside them score at least as much, so it cannot reach the first `top` rows
    (ties included: a letter tying the last row's score has a document inside).
    """
    scores = np.take(score, docs)

    def reaching(threshold: float) -> tuple[IntArray, np.ndarray, IntArray]:
        keep = np.flatnonzero(scores >= threshold)
        letters = letter[keep]
        return docs[keep], letters, np.flatnonzero(_changes(letters))

    k = min(len(scores), 4 * top)
    guess = sampled_threshold(scores, k)
    if guess is not None:
        found = reaching(guess)
        if len(found[2]) >= top:
            return found
    while True:
        found = reaching(np.partition(scores, len(scores) - k)[len(scores) - k])
        if len(found[2]) >= top or k == len(scores):
            return found
        k = min(len(scores), 4 * k)


def select(rows: LetterRows, keep: np.ndarray) -> LetterRows:
    """The rows picked by an index or mask array."""
    return (rows[0][keep], rows[1][keep], rows[2][keep], rows[3][keep], rows[4][keep])


def same_letters(a: LetterRows, b: LetterRows) -> bool:
    """Whether two sets of rows are the same letters (segment and letter), in any order."""
    if len(a[0]) != len(b[0]):
        return False
    return set(zip(a[0].tolist(), a[1].tolist(), strict=True)) == set(
        zip(b[0].tolist(), b[1].tolist(), strict=True)
    )


def letters_outside(leaves: Sequence[Leaf], wide: Matches, narrow: Matches) -> int:
    """Letters with a document in `wide` and none in `narrow` (live matches of one snapshot,
    where a letter is one run of documents of one segment): counted per segment, no keys."""
    total = 0
    for leaf, (w, _), (n, _) in zip(leaves, wide, narrow, strict=True):
        starts = leaf.data.starts
        if len(starts) and w.any():
            own = np.logical_or.reduceat(w, starts) & ~np.logical_or.reduceat(n, starts)
            total += int(np.count_nonzero(own))
    return total


def matching_ordinals(data: SegmentData, mask: BoolArray, letter: int) -> set[int]:
    """The ordinals of a letter's decisions that the mask of its segment matches."""
    start, end = letter_span(data, letter)
    return {int(o) for o in data.ordinal[start:end][mask[start:end]] if o > 0}


def letter_hit(
    leaves: Sequence[Leaf],
    letters: LetterRows,
    row: int,
    matches: Matches,
    terms: Mapping[str, Terms],
    record_of: RecordOf,
) -> Hit:
    """One result: the letter, its matching decisions and highlights."""
    s, letter, score = int(letters[0][row]), int(letters[1][row]), float(letters[2][row])
    leaf = leaves[s]
    rec = record_of(leaf, int(leaf.data.starts[letter]))
    ordinals = matching_ordinals(leaf.data, matches[s][0], letter)
    decisions = []
    others = []
    for d in rec.decisions:
        if d.ordinal not in ordinals:
            others.append(DecisionHit(d.ordinal, d.request, d.outcome, d.drug))
            continue
        marks: list[str] = []
        if terms:
            marks = highlight(d.rationale, terms.get("rationale", Terms()))
            if not marks:
                marks = highlight(d.request, terms.get("request", Terms()), passages=1)
        decisions.append(DecisionHit(d.ordinal, d.request, d.outcome, d.drug, tuple(marks)))
    marks = []
    if terms:
        texts = letter_texts(rec)
        summary = "\n\n".join(
            rec.section(k) for k in (SECTION_ISSUE_AT_DISPUTE, SECTION_CASE_SUMMARY)
        )
        for field, text in (
            ("summary", summary),
            ("reviewer", texts["reviewer"]),
            ("other", texts["other"]),
        ):
            if len(marks) < 3:
                marks += highlight(text, terms.get(field, Terms()), passages=3 - len(marks))
    hit = make_hit(rec, score, tuple(decisions), tuple(marks))
    return replace(hit, other_decisions=tuple(others))
