"""Mapped segment pages: a streaming pass can drop the pages it has read (trim_mapped), so an
index run's or a merge's RSS does not grow to the size of the segments it walks."""

from __future__ import annotations

import gc
import mmap
from pathlib import Path

import pytest

from search.engine import _codec, searcher
from search.engine.searcher import SearchIndex
from search.results import SearchRequest

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/smaps").exists() or not hasattr(mmap, "MADV_DONTNEED"),
    reason="needs Linux's /proc and madvise",
)


def _segment_maps(folder: Path) -> list[dict[str, str]]:
    """This process's mappings of `folder`'s segment files, each as its smaps fields."""
    maps: list[dict[str, str]] = []
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            path = head[-1] if len(head) >= 6 else ""
            inside = path.startswith(str(folder)) and path.endswith(".seg")
            if inside:
                maps.append({})
        elif inside and head and head[0].endswith(":"):
            maps[-1][head[0][:-1]] = " ".join(head[1:])
    return maps


def _resident_kb(folder: Path) -> int:
    """kB of this process's resident pages mapped from the segment files of `folder`."""
    return sum(int(m["Rss"].split()[0]) for m in _segment_maps(folder))


def _touch_postings(index: SearchIndex) -> int:
    """Read every posting list of the request field of every segment; postings read."""
    read = 0
    for leaf in index._current().leaves:
        terms = leaf.reader._terms
        for _tbytes, info in _codec.field_items(terms, "request"):
            ids, _ = _codec.read_postings(terms, info)
            read += len(ids)
    return read


def test_trim_drops_resident_segment_pages_and_reads_stay_correct(built_index: Path) -> None:
    request = SearchRequest(q="physical therapy", literal=True)
    with SearchIndex.open(built_index) as index:
        before = index.search(request)
        assert _touch_postings(index) > 0
        assert _resident_kb(built_index) > 0
        assert _codec.mapped_resident() > 0
        assert _codec.trim_mapped(0)  # any resident file page is over a zero budget
        assert _resident_kb(built_index) == 0
        after = index.search(request)  # pages come back from the page cache
        assert _resident_kb(built_index) > 0
    assert after.total_decisions == before.total_decisions > 0
    assert after.results == before.results and after.facets == before.facets


def test_trim_under_budget_leaves_pages(built_index: Path) -> None:
    with SearchIndex.open(built_index) as index:
        _touch_postings(index)
        resident = _resident_kb(built_index)
        assert not _codec.trim_mapped(1 << 50)
        assert _resident_kb(built_index) == resident > 0


def test_search_keeps_the_mapped_pages_within_the_serving_budget(built_index: Path) -> None:
    request = SearchRequest(q="physical therapy", literal=True)
    with SearchIndex.open(built_index) as roomy:
        kept = roomy.search(request)
        assert _resident_kb(built_index) > 0  # under the default budget the pages stay
    with SearchIndex.open(built_index, mapped_budget=0) as tight:
        first = tight.search(request)
        assert _resident_kb(built_index) == 0  # over a zero budget: unmapped after the search
        again = tight.search(request)
        assert _resident_kb(built_index) == 0
    for answer in (first, again):
        assert answer.total_decisions == kept.total_decisions > 0
        assert answer.results == kept.results and answer.facets == kept.facets


def _random_read_kb(folder: Path) -> int:
    """kB of this process's mappings of `folder`'s segment files marked random-read ("rr")."""
    maps = _segment_maps(folder)
    return sum(int(m["Size"].split()[0]) for m in maps if "rr" in m["VmFlags"].split())


@pytest.mark.skipif(not hasattr(mmap, "MADV_RANDOM"), reason="needs madvise(MADV_RANDOM)")
def test_a_searcher_maps_segments_for_random_reads_and_answers_the_same(
    built_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = SearchRequest(q="physical therapy", literal=True)
    monkeypatch.setattr(_codec, "_RANDOM_READS", False)
    monkeypatch.setattr(searcher, "read_at_random", lambda: None)
    gc.collect()  # maps of indexes other tests opened go with them
    before = _random_read_kb(built_index)
    with SearchIndex.open(built_index) as plain:  # new maps, the default readahead
        unadvised = plain.search(request)
        assert _random_read_kb(built_index) == before
    monkeypatch.undo()
    with SearchIndex.open(built_index) as index:
        advised = index.search(request)
        assert _random_read_kb(built_index) > before
    assert advised.total_decisions == unadvised.total_decisions > 0
    assert advised.results == unadvised.results and advised.facets == unadvised.facets
