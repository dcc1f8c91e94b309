"""Per-segment numpy views of a Whoosh index: columns, postings, lengths, letters.

Whoosh reads one posting or one column value per Python call; the engine instead reads a
whole posting list or column into numpy arrays and works with vectorized masks. Columns are
views of the memory-mapped segment files (see _codec), so they live in the OS page cache,
shared by every worker process, not on the heap. Arrays that depend only on a segment are
built once and cached by segment id, so a refreshed searcher reuses them for unchanged
segments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ..fields import FACETS
from ..schema import C_DATE, C_LKEY, C_ORD, MULTI_FACETS, MULTI_SEP, facet_column
from ._codec import (
    LENGTH_TABLE,
    VarBytesView,
    deleted_docs,
    length_bytes,
    numeric_column,
    postings,
    read_postings,
    refbytes_column,
)

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float32]

__all__ = [
    "FacetColumn",
    "FacetTable",
    "Lengths",
    "SegmentData",
    "field_lengths",
    "live_mask",
    "load_segment",
    "postings",
    "read_postings",
]


class Lengths:
    """A field's per-document token counts: a mapped byte column, decoded on indexing."""

    def __init__(self, raw: npt.NDArray[np.uint8]) -> None:
        self.raw = raw

    def __getitem__(self, docs: Any) -> FloatArray:
        result: FloatArray = LENGTH_TABLE[self.raw[docs]]
        return result

    def __len__(self) -> int:
        return len(self.raw)


def field_lengths(reader: Any, fieldname: str) -> Lengths:
    """Per-document token counts of a field (Whoosh's one-byte approximation)."""
    return Lengths(length_bytes(reader, fieldname))


@dataclass
class FacetTable:
    """Engine-wide codes of one facet's values (and of value combinations for multi facets)."""

    values: list[str] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)
    combos: list[tuple[int, ...]] = field(default_factory=list)  # combo code -> value codes
    combo_codes: dict[tuple[int, ...], int] = field(default_factory=dict)
    raw_combos: dict[bytes, int] = field(default_factory=dict)  # column value -> combo code
    raw_codes: dict[bytes, int] = field(default_factory=dict)  # column value -> value code

    def column_codes(self, uniques: list[bytes], multi: bool) -> list[int]:
        """The codes of a segment's column values (-1: none): a value's code, or for a
        multi facet its combination's; each new spelling decoded once, by its bytes."""
        known = self.raw_combos if multi else self.raw_codes
        out = [known.get(u, -2) for u in uniques]  # segments share most values
        if -2 not in out:
            return out
        # A value's code is assigned on first sight. (The first open codes every value of
        # every segment: thousands of drug names and state combinations, so the loop calls
        # no method per value.)
        codes, values, combo_codes, combos = self.codes, self.values, self.combo_codes, self.combos
        for k, raw in enumerate(uniques):
            if out[k] != -2:
                continue
            if not raw:
                out[k] = -1
                continue
            text = raw.decode("utf-8")
            parts: list[int] = []
            for value in text.split(MULTI_SEP) if multi else (text,):
                if not value:
                    continue
                found = codes.get(value)
                if found is None:
                    found = codes[value] = len(values)
                    values.append(value)
                parts.append(found)
            if not multi:
                known[raw] = out[k] = parts[0]
                continue
            parts.sort()
            combo = tuple(parts)
            found = combo_codes.get(combo)
            if found is None:
                found = combo_codes[combo] = len(combos)
                combos.append(combo)
            known[raw] = out[k] = found
        return out


@dataclass(frozen=True, slots=True)
class FacetColumn:
    """A facet column: the segment's refs (a mapped view) and their engine-wide codes.

    Indexing it gives engine codes (-1: no value) for the documents asked, so only those
    are ever copied onto the heap.
    """

    refs: npt.NDArray[Any]  # per document: index into the segment's unique values
    lookup: IntArray  # per unique value: its engine code (-1: none)

    def __getitem__(self, docs: Any) -> IntArray:
        result: IntArray = self.lookup[self.refs[docs]]
        return result

    def __len__(self) -> int:
        return len(self.refs)

    def counts(self, docs: Any, size: int) -> IntArray:
        """Occurrences of each engine code 0..size-1 among docs (None: every document).

        Counted per segment-local ref first (a bincount over the mapped refs, no per-document
        copy through the lookup), then folded into engine codes: one pass over the documents.
        """
        refs = self.refs if docs is None else self.refs[docs]
        return self.fold(np.bincount(refs, minlength=len(self.lookup))[: len(self.lookup)], size)

    def fold(self, local: IntArray, size: int) -> IntArray:
        """Counts per segment-local ref made counts per engine code 0..size-1."""
        valued = self.lookup >= 0
        folded = np.bincount(self.lookup[valued], weights=local[valued], minlength=size)
        result: IntArray = folded[:size].astype(np.int64)
        return result

    def mask(self, codes: IntArray) -> BoolArray:
        """True for documents whose code is one of codes."""
        local = np.flatnonzero(np.isin(self.lookup, codes))
        if not len(local):
            return np.zeros(len(self.refs), dtype=bool)
        if len(local) == 1:
            result: BoolArray = self.refs == local[0]
            return result
        # One gather through a table of the wanted refs (np.isin over the documents: ten
        # times slower); a ref past the lookup reads the table's last entry, False.
        wanted = np.zeros(len(self.lookup) + 1, dtype=bool)
        wanted[local] = True
        found: BoolArray = np.take(wanted, self.refs, mode="clip")
        return found


def gather(values: npt.NDArray[Any], docs: Any) -> npt.NDArray[Any]:
    """values[docs]; for an array of positions through np.take, a third faster (a mask, a
    slice or a list as numpy indexes them)."""
    if isinstance(docs, np.ndarray) and docs.dtype.kind in "iu":
        return np.take(values, docs)
    result: npt.NDArray[Any] = values[docs]
    return result


GROUP_BINS: Final = 1 << 16  # joint values of a group of facets counted in one bincount


@dataclass(frozen=True, slots=True)
class FacetGroup:
    """Facets of a segment counted together: per document one code for the combination of
    their local refs, so one pass over the matching documents counts them all."""

    facets: tuple[str, ...]
    sizes: tuple[int, ...]  # each facet's number of local refs, first facet varying fastest
    codes: npt.NDArray[Any]  # per document: ref0 + size0 * (ref1 + size1 * (ref2 ...))
    swapped: bool = False  # codes is a native-order view of big-endian refs: swap after a gather

    def counts(self, docs: Any) -> list[IntArray]:
        """Per facet of the group: counts per local ref among docs (None: every document)."""
        codes = self.codes if docs is None else gather(self.codes, docs)
        if self.swapped:  # (a gather from a big-endian array is many times slower)
            codes = codes.byteswap()
        if len(self.facets) == 1:
            return [np.bincount(codes, minlength=self.sizes[0])[: self.sizes[0]]]
        bins = int(np.prod(self.sizes))
        joint = np.bincount(codes, minlength=bins)[:bins].reshape(self.sizes[::-1])
        out = []
        for k, size in enumerate(self.sizes):
            # The facet's axis moved first, the rest summed as one contiguous run per value
            # (numpy's reduction over several short axes at once is several times slower).
            axis = len(self.sizes) - 1 - k
            out.append(np.moveaxis(joint, axis, 0).reshape(size, -1).sum(axis=1))
        return out


def _native(refs: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Refs in native byte order (mapped big-endian refs swapped into a copy)."""
    if refs.dtype.isnative:
        return refs
    return refs.byteswap().view(refs.dtype.newbyteorder("="))


def facet_groups(columns: dict[str, FacetColumn]) -> list[FacetGroup]:
    """The segment's facets packed into groups of at most GROUP_BINS joint values (a facet
    alone in its group is counted through its mapped refs)."""
    sizes = {}
    for facet, column in columns.items():
        top = int(column.refs.max()) + 1 if len(column.refs) else 1
        sizes[facet] = max(len(column.lookup), top)
    # First fit, largest facet first: a large facet takes small ones beside it (drug with
    # category), so fewer groups (fewer passes over the documents) than smallest first.
    groups: list[list[str]] = []
    bins: list[int] = []  # each group's joint values so far
    for facet in sorted(columns, key=lambda f: (-sizes[f], f)):
        for g, used in enumerate(bins):
            if used * sizes[facet] <= GROUP_BINS:
                groups[g].append(facet)
                bins[g] = used * sizes[facet]
                break
        else:
            groups.append([facet])
            bins.append(sizes[facet])
    out = []
    for group in groups:
        if len(group) == 1:
            refs = columns[group[0]].refs
            swapped = not refs.dtype.isnative
            if swapped:  # the mapped big-endian refs, read through a native view
                refs = refs.view(refs.dtype.newbyteorder("="))
            out.append(FacetGroup((group[0],), (sizes[group[0]],), refs, swapped))
            continue
        # Built in 2-byte arithmetic from the last facet's refs (every partial code is under
        # the group's GROUP_BINS), big-endian refs swapped first: 4x faster than int32.
        codes = _native(columns[group[-1]].refs).astype(np.uint16)
        for facet in reversed(group[:-1]):
            codes *= np.uint16(sizes[facet])
            np.add(codes, _native(columns[facet].refs), out=codes, casting="unsafe")
        out.append(FacetGroup(tuple(group), tuple(sizes[f] for f in group), codes))
    return out


def segment_counts(
    data: SegmentData, docs: Any, sizes: dict[str, int], facets: Any = None
) -> dict[str, IntArray]:
    """Counts per engine code 0..sizes[facet]-1 of each facet (of `facets`; None: all) among
    docs (None: every document): a group with two or more wanted facets in one pass."""
    out: dict[str, IntArray] = {}
    for group in data.facet_groups():
        wanted = [f for f in group.facets if facets is None or f in facets]
        if len(wanted) == 1 and len(group.facets) > 1:
            out[wanted[0]] = data.facets[wanted[0]].counts(docs, sizes[wanted[0]])
            continue
        if not wanted:
            continue
        for facet, local in zip(group.facets, group.counts(docs), strict=True):
            if facet in wanted:
                column = data.facets[facet]
                out[facet] = column.fold(local[: len(column.lookup)], sizes[facet])
    return out


@dataclass
class SegmentData:
    """Cached arrays of one segment."""

    n: int
    lkey: npt.NDArray[Any]  # big-endian views of the mapped columns
    date: npt.NDArray[Any]
    ordinal: npt.NDArray[Any]
    letter: IntArray  # per document: its letter within the segment (intp: gathers by it need
    # no cast, and spreading a per-letter array to the documents is one gather)
    starts: IntArray  # per letter: first docnum (its primary document)
    facets: dict[str, FacetColumn]  # per document: value code (single) or combo code (multi)
    lengths: dict[str, Lengths] = field(default_factory=dict)
    records: VarBytesView | None = None  # the stored records column (made on first use)
    _decided: BoolArray | None = None  # per document: a decision (ordinal > 0), not a letter
    _groups: list[FacetGroup] | None = None  # facets counted together (made on first count)

    @property
    def letters(self) -> int:
        """Number of letters in the segment (deleted included)."""
        return len(self.starts)

    def facet_groups(self) -> list[FacetGroup]:
        """The segment's facets in groups counted together (facet_groups)."""
        if self._groups is None:
            self._groups = facet_groups(self.facets)
        return self._groups

    def decided(self) -> BoolArray:
        """True for the documents that are decisions (a parsed decision's ordinal > 0)."""
        if self._decided is None:
            self._decided = np.asarray(self.ordinal > 0, dtype=bool)
        return self._decided


def load_segment(reader: Any, tables: dict[str, FacetTable]) -> SegmentData:
    """Map a segment's columns, coding facet values through the shared tables."""
    n = reader.doc_count_all()
    lkey = numeric_column(reader, C_LKEY, "i8")
    date = numeric_column(reader, C_DATE, "i4")
    ordinal = numeric_column(reader, C_ORD, "i4")
    # Documents of a letter are contiguous; a new letter starts where the key changes.
    boundary = np.ones(n, dtype=bool)
    if n > 1:  # (equal keys have equal bytes: compared as native ints, no byte swapping)
        keys = lkey.view(lkey.dtype.newbyteorder("="))
        np.not_equal(keys[1:], keys[:-1], out=boundary[1:])
    starts = np.flatnonzero(boundary).astype(np.int64, copy=False)  # (intp: no copy)
    # (widened first and summed in place: a cumsum that casts as it goes is 3x slower)
    letter = boundary.astype(np.int64)
    np.cumsum(letter, out=letter)
    letter -= 1
    del boundary
    facets: dict[str, FacetColumn] = {}
    for facet in FACETS:
        refs, uniques = refbytes_column(reader, facet_column(facet))
        mapping = tables[facet].column_codes(uniques, facet in MULTI_FACETS)
        lookup = np.asarray(mapping or [-1], dtype=np.int64)
        facets[facet] = FacetColumn(refs, lookup)
    return SegmentData(n, lkey, date, ordinal, letter, starts, facets)


def live_mask(reader: Any, n: int) -> BoolArray:
    """True for documents not deleted."""
    mask = np.ones(n, dtype=bool)
    deleted = deleted_docs(reader)
    mask[deleted[deleted < n]] = False
    return mask
