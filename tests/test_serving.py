"""The serving read path: numpy decoders of the Whoosh format agree with Whoosh's own readers
and with unpickling, and the per-process caches stay within their bounds."""

from __future__ import annotations

import random
import re
import struct
import time
from collections.abc import Callable
from pathlib import Path
from pickle import dumps
from typing import Any

import numpy as np
import pytest

from search.engine import _blocks, _codec
from search.engine.hits import page_order
from search.engine.searcher import _LRU, SearchIndex, understood_request
from search.engine.suggest import MIN_LENGTH, SPELL_FIELDS, segment_words
from search.fields import FACETS, SORT_NEWEST, SORT_OLDEST, SORT_RELEVANCE
from search.results import SearchRequest
from search.schema import TEXT_FIELDS, facet_column


def test_posting_lists_decode_the_same_with_numpy_as_unpickled(
    posting_lists: list[tuple[Any, str, str, Any]],
    unpickled: Callable[[Any, Any], tuple[Any, Any]],
) -> None:
    plain = 0
    original = _codec.plain_blocks

    def counting(*args: Any) -> Any:
        nonlocal plain
        found = original(*args)
        plain += found is not None
        return found

    _codec.plain_blocks = counting  # type: ignore[assignment]
    try:
        lists = 0
        for terms, field, word, info in posting_lists:
            lists += 1
            ids, weights = _codec.read_postings(terms, info, unpickle_upto=0)
            want_ids, want_weights = unpickled(terms, info)
            assert ids.dtype == want_ids.dtype and weights.dtype == want_weights.dtype
            assert np.array_equal(ids, want_ids), (field, word)
            assert np.array_equal(weights, want_weights), (field, word)
    finally:
        _codec.plain_blocks = original  # type: ignore[assignment]
    assert lists > 100 and plain > 10  # both decoders were exercised


def _block(ids: list[int], weights: Any) -> bytes:
    """One posting block as the writer (and Whoosh's W3 writer) pickles it."""
    deltas = tuple(b - a for a, b in zip([0, *ids[:-1]], ids, strict=True))
    top = max(weights) if isinstance(weights, tuple) else (weights or 1.0)
    info = dumps((len(ids), ids[-1], float(top), 0, 0, 0), 2)
    return info + dumps((deltas, weights, None), 2)


@pytest.mark.parametrize("seed", range(40))
def test_plain_decoder_is_exact_or_declines(seed: int) -> None:
    rng = random.Random(seed)
    gap = rng.choice([1, 3, 200, 300, 70_000])  # 300 and up: two- and four-byte deltas
    blocks, counts, ids = [], [], rng.randrange(0, 100_000)
    for _ in range(rng.randint(1, 5)):
        count = rng.choice([1, 2, 3, 4, 5, 128])
        counts.append(count)
        block_ids = []
        for _ in range(count):
            ids += rng.randint(1, gap)
            block_ids.append(ids)
        kind = rng.randrange(3)
        weights: Any = (
            None
            if kind == 0
            else float(rng.randint(2, 9))
            if kind == 1
            else tuple(float(rng.randint(1, 300)) for _ in block_ids)
        )
        blocks.append(_block(block_ids, weights))
    raw = b"W3Bl"
    starts, sizes = [], []
    for n, data in enumerate(blocks):
        size = len(data)
        raw += struct.pack("!i", -size if n == len(blocks) - 1 else size)
        starts.append(len(raw))
        sizes.append(size)
        raw += data
    postfile = _codec.MapFile(memoryview(raw))
    want = _blocks.pickled_blocks(postfile, starts, sizes)
    got = _blocks.plain_blocks(
        np.frombuffer(raw, np.uint8), np.asarray(starts), np.asarray(sizes, dtype=np.int64)
    )
    if got is not None:
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    if gap < 256 and min(counts) >= 4:  # a dense list: the numpy path must take it
        assert got is not None


def test_term_table_and_fields_match_whoosh(search_index: SearchIndex) -> None:
    for leaf in search_index._current().leaves:
        for field in (*TEXT_FIELDS, "rationale_2", "no-such-field"):
            want = []
            if field in leaf.reader._terms._fieldmap:
                want = [
                    (text.decode("utf-8"), info.doc_frequency())
                    for text, info in leaf.reader.iter_field(field)
                ]
            assert list(_codec.field_terms_df(leaf.reader, field)) == want
            raw, starts, lengths, dfs = _codec.term_table(leaf.reader, field)
            table = [
                (bytes(raw[s : s + n]).decode("utf-8"), int(d))
                for s, n, d in zip(starts, lengths, dfs, strict=True)
            ]
            assert table == want


def test_speller_words_are_the_long_lowercase_words(search_index: SearchIndex) -> None:
    alpha = re.compile(r"[a-z]+")
    for leaf in search_index._current().leaves:
        want: dict[str, int] = {}
        for field in SPELL_FIELDS:
            for word, df in _codec.field_terms_df(leaf.reader, field):
                if len(word) >= MIN_LENGTH and alpha.fullmatch(word):
                    want[word] = want.get(word, 0) + df
        assert segment_words(leaf.reader) == want
        assert want


def test_facet_tables_and_counts_match_whoosh(search_index: SearchIndex) -> None:
    for leaf in search_index._current().leaves:
        for facet in FACETS:
            name = facet_column(facet)
            refs, uniques = _codec.refbytes_column(leaf.reader, name)
            creader = leaf.reader.column_reader(name, translate=False)
            assert uniques == list(creader._uniques)
            assert [uniques[r] for r in refs] == list(creader)
            column = leaf.data.facets[facet]
            size = int(column.lookup.max()) + 2
            docs = np.flatnonzero(np.arange(len(column)) % 3 == 0)
            for sel in (None, docs):
                codes = column[slice(None) if sel is None else sel]
                want = np.bincount(codes[codes >= 0], minlength=size)[:size]
                assert np.array_equal(column.counts(sel, size), want)


def test_mask_cache_is_bounded_in_bytes() -> None:
    cache = _LRU(100, max_bytes=10_000)
    for k in range(50):
        cache.store(k, np.zeros(3_000, dtype=bool))
    assert cache.used <= 10_000 and len(cache) == 3
    assert cache.fetch(49) is not None and cache.fetch(0) is None
    cache.drop_all()
    assert cache.used == 0 and not cache


def test_open_reads_no_posting_and_keeps_per_document_heap_small(built_index: Path) -> None:
    index = SearchIndex.open(built_index)
    try:
        assert not index._postings.items  # postings are read by queries, never by open
        for leaf in index._current().leaves:
            data = leaf.data
            for facet in FACETS:  # facet refs stay views of the map
                assert not data.facets[facet].refs.flags.owndata
            assert not data.lkey.flags.owndata and not data.ordinal.flags.owndata
    finally:
        index.close()


@pytest.mark.parametrize("sort", [SORT_RELEVANCE, SORT_NEWEST, SORT_OLDEST])
def test_bounded_letter_rows_give_the_pages_of_all_rows(
    search_index: SearchIndex, sort: str
) -> None:
    snap = search_index._current()
    for q, filters in [
        ("", {}),
        ("pain", {}),
        ("medical necessity", {}),
        ("", {"outcome": ("Upheld",)}),
    ]:
        for page, size in [(1, 5), (3, 7), (1, 200), (40, 10)]:
            request = SearchRequest(q=q, filters=filters, sort=sort, page=page, size=size)
            response = search_index.search(request)
            parsed, _ = understood_request(request)
            _, matches, _ = search_index._matches(snap, parsed, time.monotonic() + 60)
            rows, total, _ = search_index._letters(snap, matches)  # every row
            assert response.total_determinations == total == len(rows[0])
            order = page_order(rows, response.sort, page * size)[(page - 1) * size :]
            want = []
            for r in order:
                leaf = snap.leaves[int(rows[0][r])]
                want.append(search_index._record(leaf, int(leaf.data.starts[int(rows[1][r])])).id)
            assert [hit.id for hit in response.results] == want, (q, sort, page)
