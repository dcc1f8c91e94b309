"""Facet counts, disjunctive, in one numpy pass over the documents the text query matched.

Each facet is counted under the text query and every filter except its own: the values of a
filtered facet stay listed with how many decisions each would give (values of one facet are
OR-ed), and a value's count is what ticking it returns. Counts are numbers of decisions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..fields import FACETS
from ..schema import MULTI_FACETS
from .hits import ordered
from .segments import BoolArray, FacetTable, IntArray, SegmentData

FacetCounts = dict[str, dict[str, int]]


@dataclass
class SegmentMatch:
    """One segment's matches: the text query's (live) documents and each filter's mask."""

    data: SegmentData
    live: BoolArray
    segid: str
    text: BoolArray  # matches the text query, live
    filters: Mapping[str, BoolArray]  # facet -> documents having any of its wanted values


def final_mask(match: SegmentMatch) -> BoolArray:
    """Documents that match the text query and every filter."""
    mask = match.text.copy()
    for fmask in match.filters.values():
        mask &= fmask
    return mask


class FacetCounter:
    """Counts facet values over matches, with cached whole-segment counts for dense matches."""

    def __init__(self, tables: Mapping[str, FacetTable]) -> None:
        self.tables = tables
        self._full: dict[tuple[str, int, str], IntArray] = {}
        self._canon: dict[str, IntArray] = {}

    def retain(self, segids: set[str]) -> None:
        """Forget the cached counts of segments no longer in the index."""
        self._full = {k: v for k, v in self._full.items() if k[0] in segids}

    def _size(self, facet: str) -> int:
        table = self.tables[facet]
        return max(1, len(table.combos) if facet in MULTI_FACETS else len(table.values))

    def _live_counts(self, m: SegmentMatch, facet: str, size: int) -> IntArray:
        """Counts of a facet's codes over all live documents of a segment (cached)."""
        key = (m.segid, int(m.live.size - np.count_nonzero(m.live)), facet)
        found = self._full.get(key)
        if found is None or len(found) < size:
            deleted = m.live.size - np.count_nonzero(m.live)
            found = self._full[key] = m.data.facets[facet].counts(m.live if deleted else None, size)
        return found[:size]

    def count(self, matches: Sequence[SegmentMatch]) -> FacetCounts:
        """{facet: {value: decisions}}, each facet under the other facets' filters."""
        sizes = {f: self._size(f) for f in FACETS}
        totals = {f: np.zeros(sizes[f], dtype=np.int64) for f in FACETS}
        for m in matches:
            if not m.filters:
                self._count_plain(m, sizes, totals)
                continue
            docs = np.flatnonzero(m.text)
            # One bit per filter a document fails: a facet counts the documents that fail
            # no filter but, at most, its own.
            fails = np.zeros(len(docs), dtype=np.int64)
            bits: dict[str, int] = {}
            for k, (facet, fmask) in enumerate(m.filters.items()):
                bits[facet] = 1 << k
                fails |= (~fmask[docs]).astype(np.int64) << k
            passing = docs[fails == 0]
            for facet in FACETS:
                bit = bits.get(facet)
                sel = passing if bit is None else docs[(fails & ~bit) == 0]
                totals[facet] += m.data.facets[facet].counts(sel, sizes[facet])
        return {f: self._named(f, totals[f]) for f in FACETS}

    def _count_plain(
        self, m: SegmentMatch, sizes: Mapping[str, int], totals: Mapping[str, IntArray]
    ) -> None:
        """Counts of a segment without filters; when most live documents match, the cached
        counts of all live documents minus those of the few that do not."""
        matched = int(np.count_nonzero(m.text))
        live = int(np.count_nonzero(m.live))
        complement = matched * 2 > live
        docs = np.flatnonzero(m.live & ~m.text) if complement else np.flatnonzero(m.text)
        for facet in FACETS:
            part = m.data.facets[facet].counts(docs, sizes[facet])
            if complement:
                totals[facet] += self._live_counts(m, facet, sizes[facet]) - part
            else:
                totals[facet] += part

    def _canonical(self, facet: str) -> IntArray:
        """Per value code: the code of the first value spelled the same but for case (a filter
        ignores case, so such values are counted as one)."""
        table = self.tables[facet]
        found = self._canon.get(facet)
        if found is None or len(found) != len(table.values):
            first: dict[str, int] = {}
            codes = [first.setdefault(v.casefold(), c) for c, v in enumerate(table.values)]
            found = self._canon[facet] = np.asarray(codes, dtype=np.int64)
        return found

    def _named(self, facet: str, counts: IntArray) -> dict[str, int]:
        """Codes to value names (a combination adds to each of its values), display order."""
        table = self.tables[facet]
        canon = self._canonical(facet)
        nonzero = np.flatnonzero(counts)
        if facet in MULTI_FACETS:
            per_value = np.zeros(len(table.values), dtype=np.int64)
            for code in nonzero:
                per_value[list(table.combos[code])] += counts[code]
            counts, nonzero = per_value, np.flatnonzero(per_value)
        merged = np.bincount(canon[nonzero], weights=counts[nonzero], minlength=len(canon))
        values = {table.values[c]: int(merged[c]) for c in np.flatnonzero(merged)}
        return ordered(facet, values)
