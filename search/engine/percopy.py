"""Merging a segment's per-document values column by column: each column of a merged segment
(stored fields, field lengths, value columns) read whole from the mapped file, its deleted
documents dropped, and appended to the new segment's column writers in bulk.

merging.write_per_doc makes Whoosh's per-document calls (start_doc, add_field,
add_column_value, finish_doc) for every document and field, most of a merge's CPU. Here the
column writers are left in the state those calls would leave them in, so the merged segment
reads back the same values: fixed-width and length columns get the same bytes, variable-length
columns the same bytes, lengths and offsets, RefBytes columns the same refs and value table
(values numbered in order of first use, as Whoosh's writer numbers them). Stored fields are
copied as the source's compressed pickles (the per-document path re-pickles each dict, its
keys in a set's order: the same dict, other bytes). A column of a type not handled here is
copied value by value; a schema with term vectors, or a reader that is not a W3 segment
reader, goes through the per-document path whole.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from typing import Any, Final

import numpy as np
from whoosh import columns
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.util.numeric import byte_to_length

from ._codec import (
    Array,
    IntArray,
    VarBytesView,
    _view,
    _WideRefWriter,
    deleted_docs,
    length_bytes,
    numeric_column,
    refbytes_column,
)
from .merging import write_per_doc

# Each length byte's decoded length, as the per-document path adds to the field's total.
LENGTHS: Final = np.array([byte_to_length(b) for b in range(256)], dtype=np.int64)
# struct typecodes of integer NumericColumns -> numpy dtypes of their (big-endian) bytes.
_INT_DTYPES: Final = {
    "b": ">i1",
    "B": ">u1",
    "h": ">i2",
    "H": ">u2",
    "i": ">i4",
    "I": ">u4",
    "l": ">i4",
    "L": ">u4",
    "q": ">i8",
    "Q": ">u8",
}
# GrowableArray's typecodes in the order it widens to: native numpy dtype, values below.
_TYPECODES: Final = (
    ("B", np.uint8, 1 << 8),
    ("H", np.uint16, 1 << 16),
    ("i", np.int32, 1 << 31),
    ("I", np.uint32, 1 << 32),
)
_RANK: Final = {code: k for k, (code, _, _) in enumerate(_TYPECODES)}
_STORED: Final = "_stored"


def copy_per_doc(writer: Any, fieldnames: Iterable[str], reader: Any) -> dict[int, int] | None:
    """SegmentWriter.write_per_doc by columns: what merging.write_per_doc writes for a merged
    segment, the same old -> new docmap returned (None: nothing deleted)."""
    if not _copyable(writer, fieldnames, reader):
        return write_per_doc(writer, fieldnames, reader)  # type: ignore[no-any-return]
    n = reader.doc_count_all()
    kept = np.ones(n, dtype=bool)
    kept[deleted_docs(reader)] = False
    olds = np.flatnonzero(kept)
    start = writer.docnum
    count = len(olds)
    docmap: dict[int, int] | None = None
    if reader.has_deletions():
        docmap = dict(zip(olds.tolist(), range(start, start + count), strict=True))
    if not count:
        return docmap
    pdw = writer.perdocwriter
    schema = writer.schema
    names = sorted(fieldnames)
    perdoc = reader._perdoc
    if perdoc.has_column(_STORED):
        stored = pdw._colwriters[_STORED]._child  # PickleColumn's CompressedBytes writer
        _append_varbytes(stored, VarBytesView(reader, _STORED), olds, start)
    for name in names:
        if not perdoc.has_column(_lenfield(name)):
            continue
        lbytes = length_bytes(reader, name)[olds]
        if not lbytes.any():  # the per-document path adds no length: no column
            continue
        pdw._fieldlengths[name] += int(LENGTHS[lbytes].sum())
        _append_numeric(_column(pdw, _lenfield(name), LENGTHS_COLUMN), lbytes, 0, start)
    for name in names:
        coltype = schema[name].column_type
        if coltype and reader.has_column(name):
            _copy_column(_column(pdw, name, coltype), reader, name, coltype, olds, start)
    writer.docnum = pdw._doccount = start + count
    pdw._docnum = start + count - 1
    return docmap


def _copyable(writer: Any, fieldnames: Iterable[str], reader: Any) -> bool:
    """Whether the column copy applies (else the per-document path runs)."""
    schema = writer.schema
    pdw = writer.perdocwriter
    stored: Any = getattr(pdw, "_colwriters", {}).get(_STORED)
    return (
        hasattr(reader, "_perdoc")
        and hasattr(pdw, "_fieldlengths")
        and not pdw._indoc
        and pdw._doccount == writer.docnum
        # Stored keys outside the schema would be dropped by the per-document path.
        and set(reader.schema.names()) <= set(schema.names())
        and not any(schema[name].vector for name in fieldnames)
        and type(stored) is columns.PickleColumn.Writer
        and type(stored._child) is columns.CompressedBytesColumn.Writer
    )


def _column(pdw: Any, name: str, coltype: Any) -> Any:
    """The new segment's writer of a column, created as add_column_value would."""
    found = pdw._colwriters.get(name)
    if found is None:
        pdw._create_column(name, coltype)
        found = pdw._colwriters[name]
    return found


def _copy_column(
    target: Any, reader: Any, name: str, coltype: Any, olds: IntArray, start: int
) -> None:
    """Append the kept documents' values of one value column."""
    kind = type(target)
    typecode = getattr(coltype, "_typecode", "")
    if kind is columns.NumericColumn.Writer and typecode in _INT_DTYPES:
        default = coltype._default
        values = numeric_column(reader, name, _INT_DTYPES[typecode], default)[olds]
        _append_numeric(target, values, default, start)
    elif kind is columns.VarBytesColumn.Writer:
        _append_varbytes(target, VarBytesView(reader, name), olds, start)
    elif kind is _WideRefWriter and not getattr(coltype, "_fixedlen", 0):
        refs, uniques = refbytes_column(reader, name)
        _append_refs(target, refs, uniques, olds, start)
    else:  # a column type without a bulk copy: value by value, as the per-document path
        creader = reader.column_reader(name, coltype)
        if isinstance(creader, columns.TranslatingColumnReader):
            creader = creader.raw_column()
        for new, old in enumerate(olds.tolist(), start):
            target.add(new, creader[old])


def _append_numeric(target: Any, values: Array, default: Any, start: int) -> None:
    """NumericColumn.Writer.add of each value from document `start` on: values equal to the
    default are not written unless a later one is (the column ends at its last other value)."""
    written = np.flatnonzero(values != default)
    if not len(written):
        return
    end = int(written[-1]) + 1
    gap = start - target._count
    if gap > 0:  # documents since the column's last value: its default bytes (fill)
        target._dbfile.write(target._defaultbytes * gap)
    big = np.dtype(values.dtype).newbyteorder(">")
    target._dbfile.write(values[:end].astype(big, copy=False).tobytes())
    target._count = start + end


def _runs(olds: IntArray) -> list[tuple[int, int]]:
    """(first, last) of each run of consecutive document numbers."""
    breaks = np.flatnonzero(np.diff(olds) != 1)
    firsts = [int(olds[0]), *olds[breaks + 1].tolist()]
    lasts = [*olds[breaks].tolist(), int(olds[-1])]
    return list(zip(firsts, lasts, strict=True))


def _append_varbytes(target: Any, source: VarBytesView, olds: IntArray, start: int) -> None:
    """VarBytesColumn.Writer.add of the kept documents' values (bytes as they are stored),
    their data written a run of kept documents at a time straight from the map."""
    if start > target._count:
        target.fill(start)
    offsets = source._offsets.astype(np.int64)
    lengths = source._lengths.astype(np.int64)  # (one a document: Whoosh's writer fills)
    kept_lengths = lengths[olds]
    dbfile = target._dbfile
    for first, last in _runs(olds):
        begin = int(offsets[first])
        size = int(offsets[last] + lengths[last]) - begin
        if size:
            dbfile.write(_view(source._dbfile, source._base + begin, size))
    ends = np.cumsum(kept_lengths)
    base = target._offset_base
    _extend_growable(target._lengths, kept_lengths)
    _extend_growable(target._offsets, ends - kept_lengths + base)
    target._offset_base = base + (int(ends[-1]) if len(ends) else 0)
    target._count = start + len(olds)


def _extend_growable(grow: Any, values: IntArray) -> None:
    """GrowableArray.extend in bulk: widened to the typecode its appends would end with."""
    if not len(values):
        return
    top = int(values.max())
    needed = next((k for k, (_, _, limit) in enumerate(_TYPECODES) if top < limit), None)
    current = grow.array
    if needed is None or not isinstance(current, array) or current.typecode not in _RANK:
        grow.extend(values.tolist())  # Whoosh's own (an OverflowError past 4 GiB, as its)
        return
    if needed > _RANK[current.typecode]:
        current = grow.array = array(_TYPECODES[needed][0], current)
    current.frombytes(values.astype(_TYPECODES[_RANK[current.typecode]][1]).tobytes())


def _append_refs(
    target: Any, refs: Array, uniques: list[bytes], olds: IntArray, start: int
) -> None:
    """_WideRefWriter.add of the kept documents' values: each distinct value numbered in the
    new table in order of its first kept document, as the writer numbers values added."""
    target.fill(start)
    kept = refs[olds].astype(np.int64)
    present, first = np.unique(kept, return_index=True)
    table = np.zeros(len(uniques), dtype=np.uint32)
    numbered = target._uniques
    for ref in present[np.argsort(first)].tolist():
        value = uniques[ref]
        new = numbered.get(value)
        if new is None:
            new = numbered[value] = len(numbered)
        table[ref] = new
    target._refs.frombytes(table[kept].tobytes())
    target._count = start + len(olds)
