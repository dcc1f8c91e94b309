"""Facet counts, disjunctive, in one numpy pass over the documents the text query matched.

Each facet is counted under the text query and every filter except its own: the values of a
filtered facet stay listed with how many decisions each would give (values of one facet are
OR-ed), and a value's count is what ticking it returns. Counts are numbers of decisions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from ..fields import FACET_AGE, FACET_YEAR, FACETS
from ..schema import MULTI_FACETS
from .hits import ordered
from .segments import BoolArray, FacetTable, IntArray, SegmentData, segment_counts

FacetCounts = dict[str, dict[str, int]]
FILTER_CACHE: Final = 256  # filters' code arrays kept (by facet, values and table sizes)


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
        self._combos: dict[str, tuple[int, IntArray, IntArray]] = {}
        self._ranks: dict[str, IntArray] = {}
        self._arrays: dict[str, npt.NDArray[np.object_]] = {}
        self._by_spelling: dict[str, tuple[int, dict[str, list[int]]]] = {}
        self._filters: dict[tuple[str, tuple[str, ...], int, int], IntArray] = {}

    def retain(self, segids: set[str]) -> None:
        """Forget the cached counts of segments no longer in the index."""
        self._full = {k: v for k, v in self._full.items() if k[0] in segids}

    def _size(self, facet: str) -> int:
        table = self.tables[facet]
        return max(1, len(table.combos) if facet in MULTI_FACETS else len(table.values))

    def _live_counts(self, m: SegmentMatch, sizes: Mapping[str, int]) -> dict[str, IntArray]:
        """Counts of every facet's codes over all live documents of a segment (cached)."""
        deleted = int(m.live.size - np.count_nonzero(m.live))
        found = {f: self._full.get((m.segid, deleted, f)) for f in FACETS}
        if any(v is None or len(v) < sizes[f] for f, v in found.items()):
            counts = segment_counts(m.data, m.live if deleted else None, dict(sizes))
            for facet, value in counts.items():
                self._full[(m.segid, deleted, facet)] = value
            return counts
        return {f: v[: sizes[f]] for f, v in found.items() if v is not None}

    def sizes(self) -> dict[str, int]:
        """Each facet's number of codes now (a search counts in arrays of these sizes)."""
        return {f: self._size(f) for f in FACETS}

    def total(
        self, parts: Sequence[Mapping[str, IntArray]], sizes: Mapping[str, int]
    ) -> FacetCounts:
        """The segments' counts (of segment()) added up and named."""
        totals = {f: np.zeros(sizes[f], dtype=np.int64) for f in FACETS}
        for part in parts:
            for facet, counts in part.items():
                totals[facet] += counts
        return {f: self._named(f, totals[f]) for f in FACETS}

    def segment(self, m: SegmentMatch, sizes: Mapping[str, int]) -> dict[str, IntArray]:
        """One segment's counts per facet code, each facet under the other facets' filters
        (segments are counted apart, so on several threads at once)."""
        totals = {f: np.zeros(sizes[f], dtype=np.int64) for f in FACETS}
        if not m.filters:
            self._count_in(m, m.text, sizes, totals, FACETS)
            return totals
        # A facet counts the documents that pass every filter but, at most, its own.
        others = {}
        for facet in m.filters:
            sel = m.text.copy()
            for other, fmask in m.filters.items():
                if other != facet:
                    sel &= fmask
            others[facet] = sel
        passing = final_mask(m)
        self._count_in(m, passing, sizes, totals, [f for f in FACETS if f not in m.filters])
        for facet, sel in others.items():
            self._count_in(m, sel, sizes, totals, [facet])
        return totals

    def _count_in(
        self,
        m: SegmentMatch,
        sel: BoolArray,
        sizes: Mapping[str, int],
        totals: Mapping[str, IntArray],
        facets: Sequence[str],
    ) -> None:
        """Add the counts of the facets over the selected (live) documents of a segment; when
        most live documents are selected, the cached counts of all live documents minus
        those of the few that are not."""
        chosen = int(np.count_nonzero(sel))
        complement = chosen * 2 > int(np.count_nonzero(m.live))
        docs = np.flatnonzero(m.live & ~sel) if complement else np.flatnonzero(sel)
        live = self._live_counts(m, sizes) if complement else {}
        for facet, part in segment_counts(m.data, docs, dict(sizes), facets).items():
            totals[facet] += live[facet] - part if complement else part

    def _folded(self, facet: str) -> dict[str, list[int]]:
        """The facet's value codes by casefolded spelling, ascending (cached per table size)."""
        table = self.tables[facet]
        found = self._by_spelling.get(facet)
        if found is None or found[0] != len(table.values):
            folded: dict[str, list[int]] = {}
            for code, value in enumerate(table.values):
                folded.setdefault(value.casefold(), []).append(code)
            found = self._by_spelling[facet] = (len(table.values), folded)
        return found[1]

    def _canonical(self, facet: str) -> IntArray:
        """Per value code: the code of the first value spelled the same but for case (a filter
        ignores case, so such values are counted as one)."""
        table = self.tables[facet]
        found = self._canon.get(facet)
        if found is None or len(found) != len(table.values):
            first: dict[str, int] = {}  # casefolded spelling -> its first code
            spelled = (first.setdefault(v.casefold(), c) for c, v in enumerate(table.values))
            found = np.fromiter(spelled, dtype=np.int64, count=len(table.values))
            self._canon[facet] = found
        return found

    def spelled(self, facet: str, values: Iterable[str]) -> IntArray:
        """The value codes spelled as any of the values but for case (ascending)."""
        folded = self._folded(facet)
        wanted = {v.casefold() for v in values}
        return np.asarray(sorted(c for v in wanted for c in folded.get(v, ())), dtype=np.int64)

    def filter_codes(self, facet: str, values: tuple[str, ...]) -> IntArray:
        """Engine codes (of combinations, for a multi facet) having any of the values: found
        once per search term and table size, not once per segment."""
        table = self.tables[facet]
        key = (facet, values, len(table.values), len(table.combos))
        found = self._filters.get(key)
        if found is not None:
            return found
        found = self.spelled(facet, values)
        if facet in MULTI_FACETS and len(table.combos):
            # the combinations holding any of the codes, from the flat (value, combination)
            # pairs: one pass in numpy, not a set intersection per combination
            flat, owner = self.combo_values(facet, len(table.combos))
            hit = owner[np.isin(flat, found)]  # ascending, as owner is
            found = hit[np.flatnonzero(np.diff(hit, prepend=-1))]
        elif facet in MULTI_FACETS:
            found = found[:0]
        if len(self._filters) >= FILTER_CACHE:
            self._filters.clear()
        self._filters[key] = found
        return found

    def combo_values(self, facet: str, size: int) -> tuple[IntArray, IntArray]:
        """The value codes of combinations 0..size-1 laid end to end, and each one's
        combination: a combination's count then adds to each of its values in one bincount."""
        found = self._combos.get(facet)
        if found is None or found[0] != size:
            combos = self.tables[facet].combos[:size]
            lengths = np.asarray([len(c) for c in combos], dtype=np.int64)
            flat = np.fromiter((v for c in combos for v in c), dtype=np.int64, count=lengths.sum())
            owner = np.repeat(np.arange(len(combos), dtype=np.int64), lengths)
            found = self._combos[facet] = (size, flat, owner)
        return found[1], found[2]

    def _named(self, facet: str, counts: IntArray) -> dict[str, int]:
        """Codes to value names (a combination adds to each of its values), display order."""
        table = self.tables[facet]
        canon = self._canonical(facet)
        nonzero = np.flatnonzero(counts)
        if facet in MULTI_FACETS:
            flat, owner = self.combo_values(facet, len(counts))
            per_value = np.bincount(flat, weights=counts[owner], minlength=len(table.values))
            counts = per_value.astype(np.int64)
            nonzero = np.flatnonzero(counts)
        merged = np.bincount(canon[nonzero], weights=counts[nonzero], minlength=len(canon))
        codes = np.flatnonzero(merged)
        if facet in (FACET_YEAR, FACET_AGE):
            return ordered(facet, {table.values[c]: int(merged[c]) for c in codes})
        # ordered()'s order (most decisions first, then by name) sorted with numpy: a facet
        # such as drug has thousands of values; one int64 key (count above, name's rank
        # below: ranks are under 2**24) sorts in a third of lexsort's time
        count = merged[codes].astype(np.int64)
        rank = self._name_rank(facet)[codes]
        if len(table.values) < 1 << 24:
            order = np.argsort(rank - (count << 24))
        else:
            order = np.lexsort((rank, -count))
        names = self._names(facet)[codes[order]].tolist()
        return dict(zip(names, count[order].tolist(), strict=True))

    def _names(self, facet: str) -> npt.NDArray[np.object_]:
        """The facet's value names as an array (a gather of thousands of names at C speed)."""
        values = self.tables[facet].values
        found = self._arrays.get(facet)
        if found is None or len(found) != len(values):
            found = self._arrays[facet] = np.empty(len(values), dtype=object)
            found[:] = values
        return found

    def _name_rank(self, facet: str) -> IntArray:
        """Per value code: its place in the order of the values' names."""
        names = self.tables[facet].values
        found = self._ranks.get(facet)
        if found is None or len(found) != len(names):
            rank = np.empty(len(names), dtype=np.int64)
            rank[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
            found = self._ranks[facet] = rank
        return found
