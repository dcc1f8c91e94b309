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
from typing import Any

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

    def code(self, value: str) -> int:
        """The code of a value, assigned on first sight."""
        found = self.codes.get(value)
        if found is None:
            found = self.codes[value] = len(self.values)
            self.values.append(value)
        return found

    def combo(self, raw: bytes) -> int:
        """The code of a column value: a single value's code, or a combination's."""
        known = self.raw_combos.get(raw)
        if known is not None:  # segments share most combinations: decode each once
            return known
        parts = tuple(sorted(self.code(v) for v in raw.decode("utf-8").split(MULTI_SEP) if v))
        found = self.combo_codes.get(parts)
        if found is None:
            found = self.combo_codes[parts] = len(self.combos)
            self.combos.append(parts)
        self.raw_combos[raw] = found
        return found


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
        local = np.bincount(refs, minlength=len(self.lookup))[: len(self.lookup)]
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
        return np.isin(self.refs, local)


@dataclass
class SegmentData:
    """Cached arrays of one segment."""

    n: int
    lkey: npt.NDArray[Any]  # big-endian views of the mapped columns
    date: npt.NDArray[Any]
    ordinal: npt.NDArray[Any]
    letter: Int32Array  # per document: index of its letter within the segment
    starts: IntArray  # per letter: first docnum (its primary document)
    facets: dict[str, FacetColumn]  # per document: value code (single) or combo code (multi)
    lengths: dict[str, Lengths] = field(default_factory=dict)
    records: VarBytesView | None = None  # the stored records column (made on first use)

    @property
    def letters(self) -> int:
        """Number of letters in the segment (deleted included)."""
        return len(self.starts)


def load_segment(reader: Any, tables: dict[str, FacetTable]) -> SegmentData:
    """Map a segment's columns, coding facet values through the shared tables."""
    n = reader.doc_count_all()
    lkey = numeric_column(reader, C_LKEY, "i8")
    date = numeric_column(reader, C_DATE, "i4")
    ordinal = numeric_column(reader, C_ORD, "i4")
    # Documents of a letter are contiguous; a new letter starts where the key changes.
    boundary = np.ones(n, dtype=bool)
    if n > 1:
        np.not_equal(lkey[1:], lkey[:-1], out=boundary[1:])
    starts = np.flatnonzero(boundary).astype(np.int64)
    letter = (np.cumsum(boundary, dtype=np.int32) - 1).astype(np.int32)
    del boundary
    facets: dict[str, FacetColumn] = {}
    for facet in FACETS:
        refs, uniques = refbytes_column(reader, facet_column(facet))
        table = tables[facet]
        if facet in MULTI_FACETS:
            mapping = [table.combo(u) if u else -1 for u in uniques]
        else:
            mapping = [table.code(u.decode("utf-8")) if u else -1 for u in uniques]
        lookup = np.asarray(mapping or [-1], dtype=np.int64)
        facets[facet] = FacetColumn(refs, lookup)
    return SegmentData(n, lkey, date, ordinal, letter, starts, facets)


def live_mask(reader: Any, n: int) -> BoolArray:
    """True for documents not deleted."""
    mask = np.ones(n, dtype=bool)
    deleted = deleted_docs(reader)
    mask[deleted[deleted < n]] = False
    return mask
