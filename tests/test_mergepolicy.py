"""Merges reclaim deleted documents: an index updated many times stays close to a fresh build."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from search.engine.mergepolicy import DELETES_ALLOWED, MAX_SEGMENTS, choose_merges
from search.engine.searcher import SearchIndex
from search.index import index_paths, open_index, storage_size
from search.results import SearchRequest

CASES = [
    # (all, live) per segment -> positions merged
    ([], set()),
    ([(100, 100)], set()),
    ([(100, 76)], set()),  # 24% deleted: allowed
    ([(100, 74)], {0}),  # 26% deleted: merged away, whatever its size
    ([(1000, 700), (10, 10), (5, 0)], {0, 2}),  # a wholly deleted segment goes too
    ([(0, 0)], set()),
    # Too many segments: the smallest by LIVE documents merge until half remain.
    ([(50, 50)] * MAX_SEGMENTS, set()),
    ([(50 + i, 50 + i) for i in range(MAX_SEGMENTS + 1)], set(range(MAX_SEGMENTS // 2 + 1))),
    (
        [(1000, 760)] + [(50, 50)] * MAX_SEGMENTS,  # big but mostly live: kept
        set(range(1, MAX_SEGMENTS // 2 + 2)),
    ),
]


@pytest.mark.parametrize(("counts", "merged"), CASES)
def test_choose_merges(counts: list[tuple[int, int]], merged: set[int]) -> None:
    assert choose_merges(counts) == merged


def _segments(index: Path) -> list[tuple[int, int]]:
    ix = open_index(index)
    try:
        return [(s.doc_count_all(), s.doc_count()) for s in ix.toc().segments]
    finally:
        ix.close()


def _answers(index: Path) -> list[object]:
    idx = SearchIndex.open(index)
    try:
        out: list[object] = []
        for q in ("", "pain", "tizanidine OR physical", '"low back"'):
            r = idx.search(SearchRequest(q=q, size=1000))
            hits = sorted((h.id, tuple(d.ordinal for d in h.decisions)) for h in r.results)
            out.append((q, r.total_determinations, r.total_decisions, hits, r.facets))
        return out
    finally:
        idx.close()


def test_an_index_updated_many_times_stays_near_a_fresh_build(tmp_path: Path) -> None:
    """60 update cycles, each editing 8 of 80 letters (every letter about six times): the
    updated index answers exactly as a fresh build does, no segment keeps more than its
    allowed share of deleted documents, and the files are at most 2x a fresh build's (a
    few segments, each with its own term dictionary; with deletions never merged away
    this index was 3.3x a fresh build and grew with every cycle)."""
    from search.generate import write_corpus

    rng = random.Random(5)
    folder = tmp_path / "letters"
    paths = write_corpus(folder, 80, seed=5)
    index = tmp_path / "index"
    index_paths(index, [folder], workers=1)
    for cycle in range(60):
        for path in rng.sample(paths, 8):
            with path.open("a", encoding="utf-8") as f:
                f.write(f"\nAmended in update cycle {cycle}.\n")
        summary = index_paths(index, [folder], workers=1)
        assert summary.updated == 8 and summary.failed == 0
        for total, live in _segments(index):
            assert total - live <= DELETES_ALLOWED * total
    fresh = tmp_path / "fresh"
    index_paths(fresh, [folder], workers=1)
    assert _answers(index) == _answers(fresh)
    documents = sum(total for total, _ in _segments(index))
    assert documents <= sum(total for total, _ in _segments(fresh)) / (1 - DELETES_ALLOWED)
    assert storage_size(index) <= 2.0 * storage_size(fresh)
