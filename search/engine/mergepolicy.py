"""Merge policy: which segments a commit merges, weighing deleted documents.

An update deletes the letter's old documents where they are (a segment's deletion list) and
adds the new ones to a new segment; only a merge drops deleted documents from the files
(the merge copies live documents only). A policy that merges only the smallest segments
never rewrites the big first one, so an index updated often keeps every old version it ever
held there (it grew 47% over 225 update cycles). As Lucene's TieredMergePolicy does, this
one counts segments by their live documents and merges away any segment whose deleted share
passes DELETES_ALLOWED, so the deleted part of an index stays bounded whatever its history.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

MAX_SEGMENTS: Final = 12  # above this, a commit merges the smallest segments
DELETES_ALLOWED: Final = 0.25  # a segment more deleted than this is merged (rewritten live)


def choose_merges(
    counts: Sequence[tuple[int, int]],
    max_segments: int = MAX_SEGMENTS,
    deletes_allowed: float = DELETES_ALLOWED,
) -> set[int]:
    """The positions of the segments to merge, from each one's (all, live) document counts.

    A segment whose deleted share passes `deletes_allowed` is merged (its deletions
    dropped); of the others, when there are more than `max_segments`, the smallest by live
    documents are merged until half of that many remain.
    """
    chosen = {
        i
        for i, (total, live) in enumerate(counts)
        if total > 0 and (total - live) > deletes_allowed * total
    }
    rest = sorted((i for i in range(len(counts)) if i not in chosen), key=lambda i: counts[i][1])
    if len(rest) > max_segments:
        chosen.update(rest[: len(rest) - max_segments // 2])
    return chosen


def merge_segments(writer: Any, segments: list[Any]) -> list[Any]:
    """Whoosh merge function (commit(mergetype=...)): merge the chosen segments into the
    writer's new segment; the segments kept as they are."""
    counts = [(seg.doc_count_all(), seg.doc_count()) for seg in segments]
    merged = choose_merges(counts, MAX_SEGMENTS, DELETES_ALLOWED)
    if not merged:
        return list(segments)
    from whoosh.reading import SegmentReader

    for i in sorted(merged):
        # The writer streams the reader's postings at flush and closes it then; a
        # merged-in segment's deleted documents are not copied.
        writer.add_reader(SegmentReader(writer.storage, writer.schema, segments[i]))
    return [seg for i, seg in enumerate(segments) if i not in merged]
