"""Merge policy: which segments a commit merges, size-tiered, weighing deleted documents.

As Lucene's TieredMergePolicy: segments are merged with others of similar size (the window
of up to MERGE_FACTOR segments, in size order, whose largest is the smallest share of the
whole), only when there are more segments than a budget that grows with the logarithm of
the index (MERGE_FACTOR per tier of sizes FLOOR_DOCS, FLOOR_DOCS * MERGE_FACTOR, ...); a
merge never makes a segment of more than MAX_MERGED_DOCS live documents, and a segment of
more than half that takes part in no size merge. So each document is rewritten about once
per tier (O(N log N) for N documents) and the largest merge is bounded whatever the size of
the index. (Merging the smallest segments down to a fixed count, the policy before this
one, rewrote the growing largest segments again and again: O(N^2).)

An update deletes the letter's old documents where they are (a segment's deletion list) and
adds the new ones to a new segment; only a merge drops deleted documents from the files.
Segments are counted by their live documents, and any segment whose deleted share passes
DELETES_ALLOWED is rewritten (first, before any size merge), so the deleted part of an
index stays bounded whatever its history.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final

MERGE_FACTOR: Final = 10  # segments per tier, and merged at once at most
FLOOR_DOCS: Final = 16_000  # smaller segments count as this big (about one 10,000-letter commit)
MAX_MERGED_DOCS: Final = 500_000  # live documents of a merge's result, at most (~300k letters)
DELETES_ALLOWED: Final = 0.25  # a segment more deleted than this is merged (rewritten live)


def allowed_segments(total: int, floor: int, factor: int, max_docs: int) -> int:
    """How many segments an index of `total` (floored) live documents may hold: `factor`
    per tier of sizes floor, floor * factor, ... (Lucene's segment-count budget)."""
    level, left, allowed = floor, float(total), 0
    while True:
        count = left / level
        if count < factor or level >= max_docs:
            return max(factor, allowed + math.ceil(count))
        allowed += factor
        left -= factor * level
        level *= factor


def _too_deleted(
    counts: Sequence[tuple[int, int]], deletes_allowed: float, max_docs: int
) -> set[int]:
    """Segments whose deleted share passes the allowance, smallest first, together at most
    max_docs live documents (at least one)."""
    over = sorted(
        (
            i
            for i, (total, live) in enumerate(counts)
            if total > 0 and total - live > deletes_allowed * total
        ),
        key=lambda i: counts[i][1],
    )
    chosen: set[int] = set()
    live = 0
    for i in over:
        if chosen and live + counts[i][1] > max_docs:
            break
        chosen.add(i)
        live += counts[i][1]
    return chosen


def choose_merges(
    counts: Sequence[tuple[int, int]],
    *,
    factor: int = MERGE_FACTOR,
    floor: int = FLOOR_DOCS,
    max_docs: int = MAX_MERGED_DOCS,
    deletes_allowed: float = DELETES_ALLOWED,
) -> set[int]:
    """The positions of the segments one commit merges, from each one's (all, live)
    document counts: too deleted ones first; else, past the segment budget, the window of
    similar sizes whose merge is least skewed."""
    deleted = _too_deleted(counts, deletes_allowed, max_docs)
    if deleted:
        return deleted
    live = [c[1] for c in counts]
    eligible = sorted(
        (i for i in range(len(counts)) if live[i] <= max_docs // 2), key=live.__getitem__
    )
    sizes = {i: max(live[i], floor) for i in eligible}
    if len(eligible) <= allowed_segments(sum(sizes.values()), floor, factor, max_docs):
        return set()
    best: tuple[float, list[int]] | None = None
    for start in range(len(eligible) - 1):
        window: list[int] = []
        total = 0
        for i in eligible[start : start + factor]:
            if total + live[i] > max_docs:
                break
            window.append(i)
            total += live[i]
        if len(window) < 2:
            continue
        # Skew: the largest's share of the merge (1/factor at best); Lucene's slight
        # preference for smaller merges breaks ties.
        skew = sizes[window[-1]] / sum(sizes[i] for i in window)
        score = skew * max(total, 1) ** 0.05
        if best is None or score < best[0]:
            best = (score, window)
    return set(best[1]) if best is not None else set()


def compact_merge(counts: Sequence[tuple[int, int]], max_docs: int = MAX_MERGED_DOCS) -> set[int]:
    """The next merge of a compaction (Lucene's forceMerge, within the merge cap): the
    smallest segments by live documents, as many as fit in max_docs together; none when
    fewer than two fit. Repeated until it picks nothing, it leaves segments no two of which
    fit in one merge; each merge is bounded like the policy's (max_docs live documents)."""
    order = sorted(range(len(counts)), key=lambda i: counts[i][1])
    chosen: set[int] = set()
    live = 0
    for i in order:
        if live + counts[i][1] > max_docs:
            break
        chosen.add(i)
        live += counts[i][1]
    return chosen if len(chosen) > 1 else set()


def merge_segments(writer: Any, segments: list[Any]) -> list[Any]:
    """Whoosh merge function (commit(mergetype=...)): merge the chosen segments into the
    writer's new segment; the segments kept as they are."""
    counts = [(seg.doc_count_all(), seg.doc_count()) for seg in segments]
    # (the module's constants read at each call: benchmarks scale them to their run)
    merged = choose_merges(
        counts,
        factor=MERGE_FACTOR,
        floor=FLOOR_DOCS,
        max_docs=MAX_MERGED_DOCS,
        deletes_allowed=DELETES_ALLOWED,
    )
    if not merged:
        return list(segments)
    from whoosh.reading import SegmentReader

    for i in sorted(merged):
        # The writer streams the reader's postings at flush and closes it then; a
        # merged-in segment's deleted documents are not copied.
        writer.add_reader(SegmentReader(writer.storage, writer.schema, segments[i]))
    return [seg for i, seg in enumerate(segments) if i not in merged]
