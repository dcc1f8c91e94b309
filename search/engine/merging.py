"""Merging segments into the writer's new one: each merged segment's posting lists read term
by term, renumbered, and joined to the writer's own (only one term's lists in memory)."""

from __future__ import annotations

import io
import itertools
import struct
import zlib
from array import array
from pickle import Unpickler, dumps, loads
from typing import Any, Final

import numpy as np
from whoosh import columns
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3TermInfo, _lenfield
from whoosh.util.numeric import byte_to_length

from ._codec import _view, read_postings

BLOCK: Final = 128  # postings per block, as Whoosh's W3 codec
_BLOCK_LENGTH: Final = struct.Struct("!i")  # a posting block's length, negative for the last
# A W3TermInfo record: flags (1: postings inlined after it), weight, doc frequency, min and max
# length bytes, max weight, first and last document number; then the pickled postings.
_INFO: Final = struct.Struct(W3TermInfo._struct.format)
_MAXID: Final = struct.Struct("!19xI")  # the last document number, at the end of _INFO


def tagged(items: Any, k: int) -> Any:
    """(term bytes, k, record) for each (term bytes, record) of merged source k."""
    for tbytes, info in items:
        yield tbytes, k, info


def shift_of(mapping: Any) -> int | None:
    """The offset that renumbers a merged segment whose documents all stay, in order (None:
    some are deleted)."""
    n = len(mapping)
    if n and mapping[0] >= 0 and bool((np.diff(mapping) == 1).all()):
        return int(mapping[0])
    return None


def short_postings(terms: Any, info: Any) -> tuple[list[int], list[int]] | None:
    """(ids, freqs) of a posting list inlined in the term index or of one block, unpickled
    (cheaper for one block than numpy's decode); None for a longer list."""
    if info.is_inlined():
        ids, weights, _ = info.inlined_postings()
        return list(ids), [int(w) for w in weights]
    if info.doc_frequency() > BLOCK:
        return None
    offset, length = info.extent()
    if isinstance(length, tuple):  # Whoosh's W3TermInfo.from_bytes leaves it a 1-tuple
        length = length[0]
    data = bytes(_view(terms._postfile, offset, length))
    (size,) = _BLOCK_LENGTH.unpack_from(data, len(WHOOSH3_HEADER_MAGIC))
    if size >= 0:  # not the last block: a longer list than its count said
        return None
    start = len(WHOOSH3_HEADER_MAGIC) + 4
    block = data[start : start + abs(size)]
    head = io.BytesIO(block)
    count, _maxid, _maxweight, compression, _minlen, _maxlen = Unpickler(head).load()
    body = block[head.tell() :]
    deltas, weights, _values = loads(zlib.decompress(body) if compression else body)
    ids = list(itertools.accumulate(deltas))
    if weights is None:
        freqs = [1] * count
    elif isinstance(weights, float):
        freqs = [int(weights)] * count
    else:
        freqs = [int(w) for w in weights]
    return ids, freqs


def _shifts(payload: bytes, mapping: Any) -> bool:
    """Whether a merged source's term record (of a segment with nothing deleted) is an
    inlined list that its shift renumbers."""
    return payload[0] == 1 and _MAXID.unpack_from(payload)[0] < len(mapping)


def inlined_renumbered(value: bytes, shift: int) -> bytes:
    """A term index record of inlined postings (W3TermInfo bytes) with every document number
    moved by shift; nothing else decoded or changed."""
    if not shift:
        return value
    flags, weight, df, minlen, maxlen, maxweight, minid, maxid = _INFO.unpack_from(value)
    ids, weights, values = loads(value[_INFO.size :])
    head = _INFO.pack(flags, weight, df, minlen, maxlen, maxweight, minid + shift, maxid + shift)
    return head + dumps((tuple([docnum + shift for docnum in ids]), weights, values), 2)


def join_postings(group: list[tuple[int, Any]], sources: list[tuple[Any, Any, int | None]]) -> Any:
    """One term's postings from its buffered and merged parts: (ids, freqs) lists, or the
    term index record itself (bytes) when it is one merged segment's inlined list, renumbered
    by a shift; None when every posting was deleted.

    Parts: (-1, (ids, freqs)) of the writer's own buffer, (k, W3TermInfo bytes) of source k.
    """
    if len(group) == 1:
        k, payload = group[0]
        if k < 0:
            return payload
        _, mapping, shift = sources[k]
        # (most terms of a merge: one segment's inlined list, nothing of it deleted)
        if shift is not None and _shifts(payload, mapping):
            return inlined_renumbered(payload, shift)
    # Compact arrays (4 bytes a posting), not lists of ints: a merged list can be long.
    ids_out = array("I")
    freqs_out = array("I")
    for k, payload in group:
        if k < 0:
            ids_out.extend(payload[0])
            freqs_out.extend(payload[1])
            continue
        terms, mapping, shift = sources[k]
        if shift is not None and _shifts(payload, mapping):
            ids_, weights_, _ = loads(payload[_INFO.size :])
            ids_out.extend([docnum + shift for docnum in ids_])
            freqs_out.extend([int(w) for w in weights_])
            continue
        info = W3TermInfo.from_bytes(payload)
        short = short_postings(terms, info)
        if short is not None and shift is not None and short[0][-1] < len(mapping):
            # (most lists: one block, of a segment with nothing deleted) no numpy set-up
            ids_out.extend([docnum + shift for docnum in short[0]])
            freqs_out.extend(short[1])
            continue
        if short is not None:
            ids = np.asarray(short[0], dtype=np.int64)
            weights = np.asarray(short[1], dtype=np.float32)
        else:
            ids, weights = read_postings(terms, info)
        inside = ids < len(mapping)
        new = mapping[ids[inside]]
        keep = new >= 0
        ids_out.frombytes(new[keep].astype(np.uint32).tobytes())
        freqs_out.frombytes(weights[inside][keep].astype(np.uint32).tobytes())
    if not ids_out:
        return None
    return ids_out, freqs_out


def write_per_doc(writer: Any, fieldnames: Any, reader: Any) -> Any:
    """SegmentWriter.write_per_doc (a merged segment's stored fields, lengths and columns),
    the same calls in the same order, each lengths column looked up once per field: Whoosh
    stats its file for every document and field. percopy copies by columns instead; this
    per-document path is its fallback and the reference its tests compare against."""
    schema = writer.schema
    docmap: dict[int, int] | None = {} if reader.has_deletions() else None
    pdw = writer.perdocwriter
    cols = {}
    for fieldname in fieldnames:
        fieldobj = schema[fieldname]
        coltype = fieldobj.column_type
        if coltype and reader.has_column(fieldname):
            creader = reader.column_reader(fieldname, coltype)
            if isinstance(creader, columns.TranslatingColumnReader):
                creader = creader.raw_column()
            cols[fieldname] = creader
    perdoc = reader._perdoc
    lengths: dict[str, Any] = {}

    def length_of(docnum: int, fieldname: str) -> int | None:
        """W3PerDocReader.doc_field_length (0 without a column, None for a zero byte)."""
        if fieldname not in lengths:
            lengths[fieldname] = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        found = lengths[fieldname]
        if found is None:
            return 0
        lbyte = found[docnum]
        return byte_to_length(lbyte) if lbyte else None

    for docnum, stored in reader.iter_docs():
        if docmap is not None:
            docmap[docnum] = writer.docnum
        pdw.start_doc(writer.docnum)
        # (the same set expression as Whoosh's: its order decides the stored dict's)
        for fieldname in fieldnames | set(s for s in stored if s in writer.schema):
            fieldobj = schema[fieldname]
            pdw.add_field(fieldname, fieldobj, stored.get(fieldname), length_of(docnum, fieldname))
            if fieldobj.vector and reader.has_vector(docnum, fieldname):
                v = reader.vector(docnum, fieldname, fieldobj.vector)
                pdw.add_vector_matcher(fieldname, fieldobj, v)
            if fieldname in cols:
                pdw.add_column_value(fieldname, fieldobj.column_type, cols[fieldname][docnum])
        pdw.finish_doc()
        writer.docnum += 1
    return docmap
