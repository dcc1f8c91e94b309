"""The Whoosh-format codec: the only module that reads Whoosh's private structures.

The engine relies on Whoosh 2.7's W3 codec layout (see docs/architecture.md): compound
segment files, the ordered term hash file (field number + UTF-8 term -> W3TermInfo), posting
lists as blocks of pickled (deltas, weights, values) tuples, fixed-width numeric columns,
RefBytes columns (a ref per document and a table of unique values) and one-byte field
lengths. Everything here reads through memory maps: a segment's arrays are numpy views of
the mapped file (the OS page cache, shared by every worker process), never heap copies.
All reads are positional, so one reader serves concurrent searches without a lock.
"""

from __future__ import annotations

import contextlib
import io
import mmap
import os
import struct
import sys
import weakref
from array import array
from collections.abc import Iterator
from functools import partial
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt
from whoosh import columns
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3TermInfo
from whoosh.filedb import compound
from whoosh.filedb.structfile import StructFile
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from ._arrays import ARRAYS_EXT, PostingArrays
from ._blocks import mixed_blocks, pickled_blocks, plain_blocks, plain_heads

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float32]
Array = npt.NDArray[Any]

LENGTH_TABLE: Final = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)
_EMPTY_IDS: Final = np.zeros(0, dtype=np.int64)
_EMPTY_W: Final = np.zeros(0, dtype=np.float32)
_EMPTY_BYTES: Final = np.zeros(0, dtype=np.uint8)
_REF_DTYPES: Final = {"B": ">u1", "H": ">u2", "I": ">u4"}
# Resident mapped pages a streaming pass (an index run's writer, a merge) may keep before it
# drops them: they stay in the page cache, so dropping costs a minor fault on a re-read.
MAPPED_BUDGET: Final = 256 << 20
_PAGE: Final = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
WILLNEED_MIN: Final = 2 * _PAGE  # posting lists longer than this are asked for whole
_MAPPED: weakref.WeakSet[Any] = weakref.WeakSet()  # compound storages whose segment we map


# --- typed views of the Whoosh objects the engine touches ------------------------------


class TermsReader(Protocol):
    """Whoosh's W3TermsReader: the term index and the posting file of a segment."""

    _tindex: Any
    _postfile: Any
    _dbfile: Any  # the term index's file

    def term_info(self, fieldname: str, text: bytes) -> Any: ...

    def _keydecoder(self, key: bytes) -> tuple[str, bytes]: ...


class SegmentReader(Protocol):
    """Whoosh's SegmentReader, as far as the codec uses it."""

    _terms: TermsReader
    _perdoc: Any
    _storage: Any  # the segment's (compound) storage
    _segment: Any

    def doc_count_all(self) -> int: ...

    def has_deletions(self) -> bool: ...

    def column_reader(self, fieldname: str, translate: bool = ...) -> Any: ...


# --- memory-mapped compound files ------------------------------------------------------


class _ViewIO(io.RawIOBase):
    """A seekable read-only file over a memoryview (sequential reads for Whoosh's own code)."""

    def __init__(self, view: memoryview) -> None:
        self._view = view
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, pos: int, whence: int = 0) -> int:
        base = (0, self._pos, len(self._view))[whence]
        self._pos = base + pos
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, n: int | None = -1) -> bytes:
        start = self._pos
        end = len(self._view) if n is None or n < 0 else min(len(self._view), start + n)
        self._pos = max(start, end)
        return bytes(self._view[start:end])

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        view = self._view
        end = len(view) if size is None or size < 0 else min(len(view), self._pos + size)
        chunk = bytes(view[self._pos : end])
        cut = chunk.find(b"\n")
        if cut >= 0:
            chunk = chunk[: cut + 1]
        self._pos += len(chunk)
        return chunk


class MapFile(StructFile):  # type: ignore[misc]
    """A Whoosh StructFile over a slice of a memory-mapped compound file, without copying it.

    Whoosh's BufferFile wraps the slice in a BytesIO, which copies the whole sub-file onto
    the heap on open (most of the cost of opening a large index, and of its memory).
    """

    def __init__(
        self, view: memoryview, name: str | None = None, mapping: Any = None, base: int = 0
    ) -> None:
        self._buf = view
        self._name = name
        self._map = mapping  # the segment's mmap, and where this file starts in it
        self._base = base
        self.file = _ViewIO(view)
        self.onclose = None
        self.is_real = False
        self.is_closed = False

    def subset(self, position: int, length: int, name: str | None = None) -> MapFile:
        view = self._buf[position : position + length]
        return MapFile(view, name or self._name, self._map, self._base + position)

    def advise(self, advice: int, position: int, length: int) -> None:
        """madvise the pages of a range of this file (a hint: where it fails, nothing)."""
        if self._map is None:
            return
        start = self._base + position
        end = start + length
        aligned = start - start % mmap.PAGESIZE
        with contextlib.suppress(OSError, ValueError):  # (the map closed meanwhile)
            self._map.madvise(advice, aligned, end - aligned)

    def get(self, position: int, length: int) -> bytes:
        return bytes(self._buf[position : position + length])

    def view(self, position: int, length: int) -> memoryview:
        """Zero-copy bytes of the file."""
        return self._buf[position : position + length]

    def get_array(self, position: int, typecode: str, length: int) -> array[Any]:
        a = array(typecode)
        a.frombytes(self.get(position, length * a.itemsize))
        if sys.byteorder == "little":  # Whoosh's arrays are big-endian
            a.byteswap()
        return a

    def close(self) -> None:
        self.is_closed = True


def _open_mapped(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """CompoundStorage.open_file returning a MapFile view of the mapped segment."""
    if self.is_closed:
        raise compound.StorageError("Storage was closed")
    offset, length = self.range(name)
    if self._source:
        if getattr(self, "imr_map", None) is None and _RANDOM_READS:
            with contextlib.suppress(OSError, ValueError):
                self._source.madvise(mmap.MADV_RANDOM)
        # close() drops _source when views of it are exported; trim_mapped still needs it
        self.imr_map = self._source
        _MAPPED.add(self)
        view = memoryview(self._source)[offset : offset + length]
        return MapFile(view, name, self._source, offset)
    return _stock_open_file(self, name, *args, **kwargs)


_RANDOM_READS = False  # see read_at_random


def read_at_random() -> None:
    """Map the segments this process opens from now on for reading at random (a searching
    process): a page fault reads its page, not the device's readahead window around it
    (8 MiB here: a cold first query at 350k letters read 900 MB for 33 it needed). What is
    read whole asks for its range first (_whole). Writers and merges stream, and keep the
    readahead."""
    global _RANDOM_READS
    _RANDOM_READS = hasattr(mmap, "MADV_RANDOM")


_stock_open_file = compound.CompoundStorage.open_file
compound.CompoundStorage.open_file = _open_mapped


def mapped_resident() -> int:
    """Bytes of file-backed pages resident in this process (0 where /proc is not there)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[2]) * _PAGE  # "shared": resident pages of files
    except (OSError, IndexError, ValueError):
        return 0


def trim_mapped(budget: int = MAPPED_BUDGET) -> bool:
    """Unmap the resident pages of every mapped segment once this process holds more than
    `budget` bytes of file pages (a pass over whole segments would otherwise keep them all:
    RSS as large as the segments); they stay in the page cache. Whether any were dropped."""
    if not hasattr(mmap, "MADV_DONTNEED") or mapped_resident() <= budget:
        return False
    for storage in list(_MAPPED):
        # A closed storage's map lives on while views of it do (a closed searcher's caches)
        source = getattr(storage, "imr_map", None)
        if source is not None:
            with contextlib.suppress(OSError, ValueError):  # the map itself closed: none resident
                source.madvise(mmap.MADV_DONTNEED)
    return True


def _whole(dbfile: Any, position: int, length: int) -> None:
    """Ask the OS for a range about to be read whole: one read ahead of the faults (where
    a searcher reads at random, a page a fault)."""
    if isinstance(dbfile, MapFile) and hasattr(mmap, "MADV_WILLNEED"):
        dbfile.advise(mmap.MADV_WILLNEED, position, length)


def _view(dbfile: Any, position: int, length: int) -> Any:
    """Bytes of a file: a zero-copy view when it is mapped, else a copy."""
    if isinstance(dbfile, MapFile):
        return dbfile.view(position, length)
    return dbfile.get(position, length)


# --- columns -----------------------------------------------------------------------------


def numeric_column(reader: SegmentReader, fieldname: str, dtype: str, default: int = 0) -> Array:
    """A NumericColumn as a (big-endian) array, a view of the mapped file when complete."""
    n = reader.doc_count_all()
    big = np.dtype(dtype).newbyteorder(">")
    perdoc = reader._perdoc
    if not perdoc.has_column(fieldname):
        return np.full(n, default, dtype=big)
    creader = reader.column_reader(fieldname, translate=False)
    count = min(creader._count, n)
    _whole(creader._dbfile, creader._basepos, count * big.itemsize)
    raw = np.frombuffer(_view(creader._dbfile, creader._basepos, count * big.itemsize), big)
    if count == n:
        return raw
    out = np.full(n, default, dtype=big)  # documents past the written values: the default
    out[:count] = raw
    return out


def refbytes_column(reader: SegmentReader, fieldname: str) -> tuple[Array, list[bytes]]:
    """A RefBytesColumn as (per-document ref into uniques, a mapped view; the uniques).

    Layout: the refs (1, 2 or 4 bytes each), a varint count of unique values, each value as
    a varint length and its bytes, then the refs' typecode byte. Parsed here from the map in
    one pass (Whoosh's reader makes a Python file call per value on every open).
    """
    n = reader.doc_count_all()
    perdoc = reader._perdoc
    if not perdoc.has_column(fieldname):
        return np.zeros(n, dtype=np.uint8), [b""]
    column = reader.schema[fieldname].column_type  # type: ignore[attr-defined]
    dbfile, base, length = perdoc._get_column_file(fieldname)
    fixedlen: int = getattr(column, "_fixedlen", 0) or 0
    if not isinstance(dbfile, MapFile) or fixedlen:
        creader = reader.column_reader(fieldname, translate=False)
        dtype = np.dtype(_REF_DTYPES[creader._typecode])
        refs = np.frombuffer(_view(creader._dbfile, creader._basepos, n * dtype.itemsize), dtype)
        return refs, list(creader._uniques)
    _whole(dbfile, base, length)
    dtype = np.dtype(_REF_DTYPES[chr(dbfile.view(base + length - 1, 1)[0])])
    refs = np.frombuffer(dbfile.view(base, n * dtype.itemsize), dtype)
    table = n * dtype.itemsize
    raw = bytes(dbfile.view(base + table, length - table))  # the values' table only: small
    count, pos = _varint(raw, 0)
    uniques = []
    for _ in range(count):
        size = raw[pos]
        if size < 0x80:  # a length under 128 (nearly every value) is one byte
            pos += 1
        else:
            size, pos = _varint(raw, pos)
        uniques.append(raw[pos : pos + size])
        pos += size
    return refs, uniques


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """A Whoosh varint (7 bits a byte, low first) at pos: (value, position after it)."""
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def length_bytes(reader: SegmentReader, fieldname: str) -> Array:
    """Per-document one-byte encoded lengths of a field (a mapped view); LENGTH_TABLE decodes."""
    n = reader.doc_count_all()
    lenfield = f"_{fieldname}_len"
    perdoc = reader._perdoc
    if not perdoc.has_column(lenfield):
        return np.zeros(n, dtype=np.uint8)
    creader = perdoc.column_reader(lenfield, LENGTHS_COLUMN)
    count = min(creader._count, n)
    _whole(creader._dbfile, creader._basepos, count)
    raw = np.frombuffer(_view(creader._dbfile, creader._basepos, count), dtype=np.uint8)
    if count == n:
        return raw
    out = np.zeros(n, dtype=np.uint8)
    out[:count] = raw
    return out


class VarBytesView:
    """A VarBytesColumn read through the map, its offsets derived once per segment by numpy.

    Whoosh's own reader derives every document's offset in a Python loop each time it is
    made (about 19 ms per 30,000 documents), which made every uncached record cost that much.
    """

    def __init__(self, reader: SegmentReader, fieldname: str) -> None:
        perdoc = reader._perdoc
        n = reader.doc_count_all()
        dbfile, base, length = perdoc._get_column_file(fieldname)
        last = base + length - 1
        code = chr(dbfile.get_byte(last))
        offsets: Array | None = None
        if code == "X":  # offsets were written too: lengths code, offsets code, "X"
            code = chr(dbfile.get_byte(last - 2))
            odtype = np.dtype(chr(dbfile.get_byte(last - 1))).newbyteorder(">")
            start = (last - 2) - n * odtype.itemsize
            offsets = np.frombuffer(_view(dbfile, start, n * odtype.itemsize), odtype)
            last = start
        ldtype = np.dtype(code).newbyteorder(">")
        lengths = np.frombuffer(
            _view(dbfile, last - n * ldtype.itemsize, n * ldtype.itemsize), ldtype
        )
        if offsets is None:
            _whole(dbfile, last - n * ldtype.itemsize, n * ldtype.itemsize)
            offsets = np.zeros(n, dtype=np.int64)
            if n > 1:
                np.cumsum(lengths[:-1], out=offsets[1:])
        self._dbfile = dbfile
        self._base = base
        self._offsets = offsets
        self._lengths = lengths

    def __getitem__(self, docnum: int) -> bytes:
        start = self._base + int(self._offsets[docnum])
        result: bytes = self._dbfile.get(start, int(self._lengths[docnum]))
        return result


def deleted_docs(reader: SegmentReader) -> IntArray:
    """Document numbers deleted in a segment."""
    if not reader.has_deletions():
        return _EMPTY_IDS
    return np.fromiter(reader._perdoc.deleted_docs(), dtype=np.int64)


class WideRefBytesColumn(columns.RefBytesColumn):  # type: ignore[misc]
    """A RefBytesColumn without the 65,535-values cap: refs are 1, 2 or 4 bytes as needed.

    Whoosh's writer switches to 2-byte refs past 255 values and silently drops values past
    65,535 (with a warning). This writer keeps the refs until the segment ends and writes
    them at the width they need; Whoosh's own reader reads all three widths.
    """

    def writer(self, dbfile: Any) -> Any:
        return _WideRefWriter(dbfile, self._fixedlen, self._default)


class _WideRefWriter(columns.RefBytesColumn.Writer):  # type: ignore[misc]
    def __init__(self, dbfile: Any, fixedlen: int, default: bytes) -> None:
        super().__init__(dbfile, fixedlen, default)
        self._refs = array("I")

    def fill(self, docnum: int) -> None:
        if docnum > self._count:
            self._refs.frombytes(bytes(4 * (docnum - self._count)))

    def add(self, docnum: int, v: bytes) -> None:
        self.fill(docnum)
        uniques = self._uniques
        ref = uniques.get(v)
        if ref is None:
            ref = uniques[v] = len(uniques)
        self._refs.append(ref)
        self._count = docnum + 1

    def finish(self, doccount: int) -> None:
        self.fill(doccount)
        top = len(self._uniques)
        typecode = "B" if top <= 0xFF else "H" if top <= 0xFFFF else "I"
        self._dbfile.write_array(array(typecode, self._refs))
        self._write_uniques(typecode)
        self._dbfile.write_byte(ord(typecode))


# --- postings ------------------------------------------------------------------------------


def term_info(reader: SegmentReader, fieldname: str, text: str) -> Any | None:
    """A term's W3TermInfo in a segment, or None."""
    try:
        return reader._terms.term_info(fieldname, text.encode("utf-8"))
    except (TermNotFound, KeyError):
        return None


def postings(reader: SegmentReader, fieldname: str, text: str) -> tuple[IntArray, FloatArray]:
    """All (docnums, weights) of a term in one segment, deleted documents included."""
    info = term_info(reader, fieldname, text)
    if info is None:
        return _EMPTY_IDS, _EMPTY_W
    attach_arrays(reader)
    return read_postings(reader._terms, info)


def attach_arrays(reader: SegmentReader) -> PostingArrays | None:
    """The segment's posting arrays (_arrays), opened once and kept on its terms reader
    for read_postings; None for a segment without them (written before, or by Whoosh)."""
    terms: Any = reader._terms
    if hasattr(terms, "imr_arrays"):
        kept: PostingArrays | None = terms.imr_arrays
        return kept
    arrays = None
    storage = reader._storage
    name = reader._segment.make_filename(ARRAYS_EXT)
    if storage.file_exists(name):
        dbfile = storage.open_file(name)
        if isinstance(dbfile, MapFile):
            arrays = PostingArrays(dbfile.view(0, len(dbfile._buf)), partial(_whole, dbfile))
        else:
            arrays = PostingArrays(memoryview(dbfile.read()))
    terms.imr_arrays = arrays
    return arrays


def read_postings(
    terms: TermsReader, info: Any, unpickle_upto: int | None = None
) -> tuple[IntArray, FloatArray]:
    """Decode a whole W3 posting list into arrays (positional reads: safe across threads);
    a list of at most unpickle_upto blocks (None: PICKLED_BLOCKS) is unpickled."""
    if info.is_inlined():
        inline_ids, inline_weights, _ = info.inlined_postings()
        return np.asarray(inline_ids, dtype=np.int64), np.asarray(inline_weights, dtype=np.float32)
    offset, length = info.extent()
    if isinstance(length, tuple):  # Whoosh's W3TermInfo.from_bytes leaves it a 1-tuple
        length = length[0]
    arrays: PostingArrays | None = getattr(terms, "imr_arrays", None)
    if arrays is not None:
        found = arrays.read(offset)
        if found is not None:
            return found
    postfile = terms._postfile
    if length > WILLNEED_MIN:
        _whole(postfile, offset, length)  # one read, not a fault a page
    view = _view(postfile, offset, length)
    starts: list[int] = []
    sizes: list[int] = []
    pos = 4  # after the posting list's magic
    unpack = _BLOCK_LENGTH.unpack_from
    while True:  # (one Python step a block: the fewest calls in it)
        (blen,) = unpack(view, pos)
        pos += 4
        starts.append(pos)
        if blen < 0:
            sizes.append(-blen)
            break
        sizes.append(blen)
        pos += blen
    if len(starts) <= (PICKLED_BLOCKS if unpickle_upto is None else unpickle_upto):
        # A short list unpickles faster (some 8 us a block) than numpy's checks and decode
        # of a list cost (some 170 us whatever its length): most lists of a query are short.
        return pickled_blocks(postfile, [offset + s for s in starts], sizes)
    raw = np.frombuffer(view, np.uint8)
    first, size = np.asarray(starts, dtype=np.int64), np.asarray(sizes, dtype=np.int64)
    heads = plain_heads(raw, first, size)
    fast = plain_blocks(raw, first, size, heads)
    if fast is not None:
        return fast
    if heads.any():
        # Most often one short last block (pickle writes 1-3 deltas without a MARK) or a
        # few sparse blocks with wider deltas: the rest is still decoded with numpy.
        return mixed_blocks(raw, first, size, heads)
    return pickled_blocks(postfile, [offset + s for s in starts], sizes)


def iter_terms(terms: TermsReader) -> Iterator[tuple[bytes, str, bytes, Any]]:
    """(key, fieldname, term bytes, W3TermInfo) of every term of a segment, in key order."""
    for keybytes, infobytes in terms._tindex.items():
        fieldname, tbytes = terms._keydecoder(keybytes)
        yield keybytes, fieldname, tbytes, W3TermInfo.from_bytes(infobytes)


PICKLED_BLOCKS: Final = 20  # lists of at most this many blocks are unpickled, not numpy-decoded
_BLOCK_LENGTH: Final = struct.Struct("!i")  # a posting block's length, negative for the last
_HASH_LENGTHS: Final = struct.Struct("!ii")  # an ordered hash record: key length, value length
_TERM_DF: Final = struct.Struct("!I")  # W3TermInfo: flags (B), weight (f), then doc frequency
_TERM_DF_AT: Final = 5


_INDEX_DTYPES: Final = {"B": ">u1", "H": ">u2", "i": ">i4", "I": ">u4", "q": ">i8"}


def _be32(raw: Array, at: IntArray) -> IntArray:
    """Big-endian 32-bit unsigned integers at byte positions `at` of a uint8 array."""
    out = raw[at].astype(np.int64) << 24
    out |= raw[at + 1].astype(np.int64) << 16
    out |= raw[at + 2].astype(np.int64) << 8
    out |= raw[at + 3]
    return out


def term_table(reader: SegmentReader, fieldname: str) -> tuple[Array, IntArray, IntArray, IntArray]:
    """Every term of one field of a segment, vectorized: (the term index's bytes as a mapped
    uint8 array, each term's start and length in it, each term's document frequency).

    The ordered term hash logs the position of every record (key length, value length, key,
    value) in an array after the data, so the records are found without walking them; the
    document frequency is at a fixed place of each W3TermInfo value.
    """
    terms = reader._terms
    fieldmap = terms._fieldmap  # type: ignore[attr-defined]
    tindex = terms._tindex
    dtype = _INDEX_DTYPES.get(tindex.extras.get("indextype", ""))
    if fieldname not in fieldmap or not isinstance(tindex.dbfile, MapFile) or dtype is None:
        return _EMPTY_BYTES, _EMPTY_IDS, _EMPTY_IDS, _EMPTY_IDS
    buf = tindex.dbfile._buf
    _whole(tindex.dbfile, 0, len(buf))  # read at random by searches: whole, once, here
    raw = np.frombuffer(buf, dtype=np.uint8)
    width = np.dtype(dtype).itemsize
    base = tindex.indexbase
    logged = np.frombuffer(buf[base : base + tindex.indexlen * width], dtype=dtype)
    # The field's keys are the run from its number's first key to the next number's.
    number = fieldmap[fieldname]
    first = tindex.closest_key_pos(struct.pack("!H", number))
    after = tindex.closest_key_pos(struct.pack("!H", number + 1))
    lo = len(logged) if first is None else int(np.searchsorted(logged, first))
    hi = len(logged) if after is None else int(np.searchsorted(logged, after))
    pos = logged[lo:hi].astype(np.int64)
    keylen = _be32(raw, pos)
    df = _be32(raw, pos + 8 + keylen + _TERM_DF_AT)
    return raw, pos + 10, keylen - 2, df


def field_terms_df(reader: SegmentReader, fieldname: str) -> Iterator[tuple[str, int]]:
    """(term, document frequency) of one field of a segment, in term order.

    Reads the term index's records raw (field_records): Whoosh's iterator builds a
    W3TermInfo per term (unpickling inlined postings), about ten times slower.
    """
    df_at = _TERM_DF.unpack_from
    for term, value in field_records(reader._terms, fieldname):
        yield str(term, "utf-8"), df_at(value, _TERM_DF_AT)[0]


def _field_spans(tindex: Any, buf: Any, number: int) -> Iterator[tuple[int, int, int]]:
    """(term start, value start, value end) in the mapped term index of each record of the
    field numbered `number`, in term order (records: key length, value length, key, value;
    a key is the field's number, then the term)."""
    prefix = struct.pack("!H", number)
    pos = tindex.closest_key_pos(prefix)
    end = tindex.endofdata
    lengths = _HASH_LENGTHS.unpack_from
    while pos is not None and pos < end:
        keylen, datalen = lengths(buf, pos)
        keypos = pos + 8
        if buf[keypos : keypos + 2] != prefix:
            return
        pos = keypos + keylen + datalen
        yield keypos + 2, keypos + keylen, pos


__all__ = [
    "LENGTH_TABLE",
    "MapFile",
    "VarBytesView",
    "WideRefBytesColumn",
    "attach_arrays",
    "deleted_docs",
    "field_items",
    "field_names",
    "field_records",
    "field_terms_df",
    "iter_terms",
    "length_bytes",
    "numeric_column",
    "postings",
    "read_postings",
    "refbytes_column",
    "term_info",
    "term_table",
]


def field_items(terms: TermsReader, fieldname: str) -> Iterator[tuple[bytes, Any]]:
    """(term bytes, W3TermInfo) of one field of a segment, in term order (streamed)."""
    if fieldname not in terms._fieldmap:  # type: ignore[attr-defined]
        return
    for (name, tbytes), info in terms.items_from(fieldname, b""):  # type: ignore[attr-defined]
        if name != fieldname:
            return
        yield tbytes, info


def field_records(terms: TermsReader, fieldname: str) -> Iterator[tuple[bytes, bytes]]:
    """(term bytes, W3TermInfo bytes) of one field of a segment, in term order, read straight
    from the map: a merge decodes a record only when it must (most are copied renumbered)."""
    fieldmap = terms._fieldmap  # type: ignore[attr-defined]
    if fieldname not in fieldmap:
        return
    tindex = terms._tindex
    buf = getattr(tindex.dbfile, "_buf", None)
    if not isinstance(tindex.dbfile, MapFile) or buf is None:  # not mapped: Whoosh's reads
        prefix = struct.pack("!H", fieldmap[fieldname])
        for key, value in tindex.items_from(prefix):
            if key[:2] != prefix:
                return
            yield key[2:], value
        return
    for term, value, end in _field_spans(tindex, buf, fieldmap[fieldname]):
        yield bytes(buf[term:value]), bytes(buf[value:end])


def field_names(terms: TermsReader) -> list[str]:
    """Names of the fields a segment has terms of."""
    return list(terms._fieldmap)  # type: ignore[attr-defined]
