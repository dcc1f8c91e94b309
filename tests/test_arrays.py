"""Posting arrays (_arrays): the fixed-width copy of long posting lists, read instead of
Whoosh's pickled blocks, must give exactly the blocks' postings, and the same answers."""

from __future__ import annotations

import pickle
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_codec import _ours, _random_query, _vocabulary
from whoosh.filedb.filestore import FileStorage
from whoosh.reading import SegmentReader

from search.engine import _arrays, _codec, writer
from search.engine.background import merge_into
from search.engine.searcher import SearchIndex
from search.index import index_paths, open_index
from search.results import SearchRequest
from search.schema import SCHEMA

SMALL_MIN = 5  # lists kept in the posting file (more than INLINE_MAX) get arrays here


def _write(path: Path, lists: list[tuple[int, list[int], list[int]]]) -> _arrays.PostingArrays:
    out = _arrays.ArrayWriter(path.open("wb"))
    for key, ids, freqs in lists:
        out.add(key, ids, freqs)
    out.close()
    return _arrays.PostingArrays(memoryview(path.read_bytes()))


LISTS = [
    # (key, ids, weights): one span from 0, every weight 1 (no weight array)
    (10, [0, 1, 2, 700, 65_535], [1, 1, 1, 1, 1]),
    # starting past the first span; one-byte weights
    (20, [70_000, 70_001, 131_071], [1, 200, 255]),
    # empty spans between ids; two-byte weights
    (35, [5, 65_535, 65_536, 200_000, 200_001, 1 << 20], [1, 2, 300, 4, 65_535, 7]),
    # four-byte weights
    (36, [3, 4], [70_000, 1]),
    # several spans, the first past span 0, one of them empty
    (37, [70_000, 140_000, 140_001, 300_000], [1, 2, 3, 4]),
]


def test_lists_read_back_exactly(tmp_path: Path) -> None:
    rng = random.Random(5)
    lists = list(LISTS)
    for k in range(20):  # random lists over up to 4M documents, weights of every width
        n = rng.randint(1, 3000)
        ids = sorted(rng.sample(range(rng.choice((1000, 70_000, 4_000_000))), min(n, 1000)))
        top = rng.choice((1, 9, 255, 256, 65_536))
        lists.append((100 + k, ids, [rng.randint(1, top) for _ in ids]))
    arrays = _write(tmp_path / "a.pla", lists)
    assert len(arrays) == len(lists)
    for key, ids, freqs in lists:
        found = arrays.read(key)
        assert found is not None
        assert found[0].dtype == np.int64 and found[1].dtype == np.float32
        assert found[0].tolist() == ids
        assert found[1].tolist() == [float(f) for f in freqs]
    for absent in (0, 11, 34, 99, 10**12):  # before, between and after the keys
        assert arrays.read(absent) is None


def test_keys_must_ascend(tmp_path: Path) -> None:
    with (tmp_path / "a.pla").open("wb") as f:
        out = _arrays.ArrayWriter(f)
        out.add(10, [1, 2], [1, 1])
        with pytest.raises(ValueError, match="out of order"):
            out.add(10, [1, 2], [1, 1])


@pytest.mark.parametrize("cut", [1, 7, 20, 40])
def test_a_truncated_or_foreign_file_is_refused(tmp_path: Path, cut: int) -> None:
    _write(tmp_path / "a.pla", LISTS)
    data = (tmp_path / "a.pla").read_bytes()
    with pytest.raises(ValueError):
        _arrays.PostingArrays(memoryview(data[:-cut]))
    with pytest.raises(ValueError):
        _arrays.PostingArrays(memoryview(b"X" + data[1:]))


def test_an_entry_that_does_not_add_up_is_not_used(tmp_path: Path) -> None:
    _write(tmp_path / "a.pla", LISTS)
    data = bytearray((tmp_path / "a.pla").read_bytes())
    arrays = _arrays.PostingArrays(memoryview(bytes(data)))
    at = int(arrays.where[2]) + _arrays.HEAD.size  # the third list's first span count
    data[at] += 1
    broken = _arrays.PostingArrays(memoryview(bytes(data)))
    assert broken.read(35) is None  # (read from the Whoosh blocks instead)
    assert broken.read(20) is not None


def _build(folder: Path, paths: list[Path]) -> None:
    """An index of paths in two commits (two segments), every list of 5+ with arrays."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(writer, "ARRAYS_MIN", SMALL_MIN)
        half = len(paths) // 2
        for part in (paths[:half], paths[half:]):
            summary = index_paths(folder, part, workers=1)
            assert summary.failed == 0, summary.errors


@pytest.fixture(scope="module")
def arrays_index(tmp_path_factory: pytest.TempPathFactory, corpus_paths: list[Path]) -> Path:
    folder = tmp_path_factory.mktemp("arrays")
    _build(folder, corpus_paths)
    return folder


def _segment_readers(folder: Path) -> Iterator[Any]:
    ix = open_index(folder)
    with ix.reader() as reader:
        for segreader, _base in reader.leaf_readers():
            yield segreader


def _check_lists(segreader: Any) -> int:
    """Every list of a segment read through its arrays equals Whoosh's own matcher's
    postings; how many were read from arrays."""
    arrays = _codec.attach_arrays(segreader)
    assert arrays is not None and len(arrays) > 100
    from_arrays = 0
    terms = segreader._terms
    for fieldname in _codec.field_names(terms):
        for tbytes, info in _codec.field_items(terms, fieldname):
            if info.is_inlined():
                continue
            ids, weights = _codec.read_postings(terms, info)
            from_arrays += arrays.read(info.extent()[0]) is not None
            m = segreader.postings(fieldname, tbytes)
            theirs = []
            while m.is_active():
                theirs.append((m.id(), m.weight()))
                m.next()
            assert list(zip(ids.tolist(), weights.tolist(), strict=True)) == theirs
    return from_arrays


def test_every_list_reads_as_whoosh_reads_it(arrays_index: Path) -> None:
    counts = [_check_lists(segreader) for segreader in _segment_readers(arrays_index)]
    assert len(counts) == 2 and min(counts) > 500


def test_merged_arrays_read_as_whoosh_reads_them(arrays_index: Path, tmp_path: Path) -> None:
    """A merge (here in this process: compact's merges run in a child) reads its sources'
    lists from their arrays and writes arrays of the merged lists."""
    segments = open_index(arrays_index).toc().segments
    staging = tmp_path / "staging"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(writer, "ARRAYS_MIN", SMALL_MIN)
        merged, _sums = merge_into(str(staging), str(arrays_index), pickle.dumps(segments))
    assert merged.doc_count_all() == sum(seg.doc_count_all() for seg in segments)
    segreader = SegmentReader(FileStorage(str(staging), readonly=True), SCHEMA, merged)
    try:
        assert _check_lists(segreader) > 500
    finally:
        segreader.close()


def test_random_queries_match_stock_whoosh_over_arrays(arrays_index: Path) -> None:
    rng = random.Random(20261202)
    ix = open_index(arrays_index)
    index = SearchIndex.open(arrays_index)
    try:
        with ix.searcher() as searcher:
            vocab = {f: _vocabulary(searcher.reader(), f) for f in ("request", "rationale")}
            nonempty = 0
            for _ in range(120):
                q = _random_query(rng, vocab)
                theirs = {hit.docnum for hit in searcher.search(q, limit=None, scored=False)}
                assert _ours(index, q) == theirs, q
                nonempty += bool(theirs)
            assert nonempty > 40
    finally:
        index.close()


@pytest.mark.parametrize(
    "q", ["pain", "chronic pain", "tizanidine OR baclofen", '"low back"', "physical therapy"]
)
def test_answers_equal_those_of_an_index_without_arrays(
    arrays_index: Path, tmp_path: Path, corpus_paths: list[Path], q: str
) -> None:
    plain = tmp_path / "plain"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(writer, "ARRAYS_MIN", 1 << 40)  # no list long enough: no arrays at all
        half = len(corpus_paths) // 2
        for part in (corpus_paths[:half], corpus_paths[half:]):
            index_paths(plain, part, workers=1)
    assert all(_codec.attach_arrays(r) is None for r in _segment_readers(plain))
    request = SearchRequest(q=q, size=50)
    with_arrays, without = SearchIndex.open(arrays_index), SearchIndex.open(plain)
    try:
        a, b = with_arrays.search(request), without.search(request)
    finally:
        with_arrays.close()
        without.close()
    assert a.total_decisions > 0
    assert a == b  # totals, every facet count, the page's hits, scores and highlights
