"""Per-segment numpy views of a Whoosh index: columns, postings, lengths, letters.

Whoosh reads one posting or one column value per Python call; the engine instead reads a
whole posting list or column into numpy arrays (Whoosh 2.7.5's W3 codec layout) and works
with vectorized masks. Arrays that depend only on a segment are built once and cached by
segment id, so a refreshed searcher reuses them for unchanged segments.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pickle import loads
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from ..fields import FACETS
from ..schema import C_DATE, C_LKEY, C_ORD, MULTI_FACETS, MULTI_SEP, facet_column

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float32]

_LENGTH_TABLE: Final = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)
_EMPTY_IDS: Final = np.zeros(0, dtype=np.int64)
_EMPTY_W: Final = np.zeros(0, dtype=np.float32)


def _column_bytes(reader: Any, fieldname: str) -> tuple[Any, Any] | None:
    """The file and column reader of a segment's column (None when absent)."""
    perdoc = reader._perdoc
    if not perdoc.has_column(fieldname):
        return None
    creader = reader.column_reader(fieldname, translate=False)
    return creader._dbfile, creader


def numeric_column(reader: Any, fieldname: str, dtype: str, default: int = 0) -> IntArray:
    """A NumericColumn as an int64 array (documents past the written values get the default)."""
    n = reader.doc_count_all()
    out = np.full(n, default, dtype=np.int64)
    found = _column_bytes(reader, fieldname)
    if found is None:
        return out
    dbfile, creader = found
    count = min(creader._count, n)
    if count:
        raw = dbfile.get(creader._basepos, count * creader._fixedlen)
        out[:count] = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder(">"))
    return out


def refbytes_column(reader: Any, fieldname: str) -> tuple[IntArray, list[bytes]]:
    """A RefBytesColumn as (per-document index into uniques, uniques)."""
    n = reader.doc_count_all()
    found = _column_bytes(reader, fieldname)
    if found is None:
        return np.zeros(n, dtype=np.int64), [b""]
    dbfile, creader = found
    itemsize = creader._itemsize
    raw = dbfile.get(creader._basepos, n * itemsize)
    dtype = ">u1" if itemsize == 1 else ">u2"
    refs = np.frombuffer(raw, dtype=dtype).astype(np.int64)
    return refs, list(creader._uniques)


def field_lengths(reader: Any, fieldname: str) -> FloatArray:
    """Per-document token counts of a field (Whoosh's one-byte approximation)."""
    n = reader.doc_count_all()
    lenfield = f"_{fieldname}_len"
    perdoc = reader._perdoc
    if not perdoc.has_column(lenfield):
        return np.zeros(n, dtype=np.float32)
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN

    creader = perdoc.column_reader(lenfield, LENGTHS_COLUMN)
    count = min(creader._count, n)
    out = np.zeros(n, dtype=np.uint8)
    if count:
        out[:count] = np.frombuffer(creader._dbfile.get(creader._basepos, count), dtype=np.uint8)
    result: FloatArray = _LENGTH_TABLE[out]
    return result


def postings(reader: Any, fieldname: str, text: str) -> tuple[IntArray, FloatArray]:
    """All (docnums, weights) of a term in one segment, deleted documents included."""
    terms = reader._terms
    try:
        info = terms.term_info(fieldname, text.encode("utf-8"))
    except (TermNotFound, KeyError):
        return _EMPTY_IDS, _EMPTY_W
    return read_postings(terms, info)


def read_postings(terms: Any, info: Any) -> tuple[IntArray, FloatArray]:
    """Decode a whole W3 posting list into arrays (one numpy pass, not one per block)."""
    if info.is_inlined():
        inline_ids, inline_weights, _ = info.inlined_postings()
        return np.asarray(inline_ids, dtype=np.int64), np.asarray(inline_weights, dtype=np.float32)
    offset, _length = info.extent()
    postfile = terms._postfile
    pos = offset + 4  # after the posting list's magic
    deltas: list[int] = []
    weights: list[float] = []
    counts: list[int] = []
    while True:
        blen = postfile.get_int(pos)
        nextpos = pos + 4 + abs(blen)
        postfile.seek(pos + 4)
        count, _maxid, _maxw, compression, _mn, _mx = postfile.read_pickle()
        datapos = postfile.tell()
        data = postfile.get(datapos, nextpos - datapos)
        if compression:
            data = zlib.decompress(data)
        block_ids, block_weights, _values = loads(data)
        deltas.extend(block_ids)
        if block_weights is None:
            weights.extend([1.0] * count)
        elif isinstance(block_weights, float):
            weights.extend([block_weights] * count)
        else:
            weights.extend(block_weights)
        counts.append(count)
        if blen < 0:
            break
        pos = nextpos
    # Each block's ids are delta-coded from zero: a running sum, restarted at every block.
    flat = np.cumsum(np.asarray(deltas, dtype=np.int64))
    if len(counts) > 1:
        ends = np.cumsum(counts)
        before = np.concatenate(([0], flat[ends[:-1] - 1]))
        flat -= np.repeat(before, counts)
    return flat, np.asarray(weights, dtype=np.float32)


@dataclass
class FacetTable:
    """Engine-wide codes of one facet's values (and of value combinations for multi facets)."""

    values: list[str] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)
    combos: list[tuple[int, ...]] = field(default_factory=list)  # combo code -> value codes
    combo_codes: dict[tuple[int, ...], int] = field(default_factory=dict)

    def code(self, value: str) -> int:
        """The code of a value, assigned on first sight."""
        found = self.codes.get(value)
        if found is None:
            found = self.codes[value] = len(self.values)
            self.values.append(value)
        return found

    def combo(self, raw: bytes) -> int:
        """The code of a column value: a single value's code, or a combination's."""
        parts = tuple(sorted(self.code(v) for v in raw.decode("utf-8").split(MULTI_SEP) if v))
        found = self.combo_codes.get(parts)
        if found is None:
            found = self.combo_codes[parts] = len(self.combos)
            self.combos.append(parts)
        return found


@dataclass
class SegmentData:
    """Cached arrays of one segment."""

    n: int
    lkey: IntArray
    date: IntArray
    ordinal: IntArray
    letter: IntArray  # per document: index of its letter within the segment
    starts: IntArray  # per letter: first docnum (its primary document)
    facets: dict[str, IntArray]  # per document: value code (single) or combo code (multi); -1
    lengths: dict[str, FloatArray] = field(default_factory=dict)

    @property
    def letters(self) -> int:
        """Number of letters in the segment (deleted included)."""
        return len(self.starts)


def load_segment(reader: Any, tables: dict[str, FacetTable]) -> SegmentData:
    """Read a segment's columns into arrays, coding facet values through the shared tables."""
    n = reader.doc_count_all()
    lkey = numeric_column(reader, C_LKEY, "i8")
    date = numeric_column(reader, C_DATE, "i4")
    ordinal = numeric_column(reader, C_ORD, "i4")
    # Documents of a letter are contiguous; a new letter starts where the key changes.
    boundary = np.ones(n, dtype=bool)
    if n > 1:
        boundary[1:] = lkey[1:] != lkey[:-1]
    starts = np.flatnonzero(boundary).astype(np.int64)
    letter = np.cumsum(boundary).astype(np.int64) - 1
    facets: dict[str, IntArray] = {}
    for facet in FACETS:
        refs, uniques = refbytes_column(reader, facet_column(facet))
        table = tables[facet]
        if facet in MULTI_FACETS:
            mapping = [table.combo(u) if u else -1 for u in uniques]
        else:
            mapping = [table.code(u.decode("utf-8")) if u else -1 for u in uniques]
        lookup = np.asarray(mapping, dtype=np.int64)
        facets[facet] = lookup[refs] if len(lookup) else np.full(n, -1, dtype=np.int64)
    return SegmentData(n, lkey, date, ordinal, letter, starts, facets)


def live_mask(reader: Any, n: int) -> BoolArray:
    """True for documents not deleted."""
    mask = np.ones(n, dtype=bool)
    if reader.has_deletions():
        deleted = np.fromiter(reader._perdoc.deleted_docs(), dtype=np.int64)
        mask[deleted[deleted < n]] = False
    return mask
