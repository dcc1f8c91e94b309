"""Posting arrays: long posting lists written a second time, as fixed-width arrays.

Whoosh's W3 lists are pickled blocks of 128 postings (11 bytes a posting when weights
vary): decoding one costs a Python step a block and numpy passes over its bytes (20 ms for
a 430,000-posting list). The writer puts every list of at least ARRAYS_MIN postings in a
file of its own beside them, in the same compound segment (stock Whoosh ignores it), read
with a few numpy calls (0.6 ms for the same list). The Whoosh lists stay the reference: a
segment without the file, or a list not in it, is decoded from its blocks.

Layout, little-endian (2 bytes an id, 0 to 4 bytes a weight):

    magic (8 bytes)
    per list: count, first, spans, kind (HEAD, 16 bytes)
              per 65,536-document span from `first`: how many ids fall in it (uint32)
              each id's low 16 bits (uint16)
              weights by kind: none (every weight 1), uint8, uint16 or uint32
    keys: each list's offset in Whoosh's posting file (uint64, ascending)
    where: each list's offset in this file (uint64)
    footer: number of lists, where the keys start, magic (FOOT)
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]

ARRAYS_EXT: Final = ".pla"  # the file's extension in the segment
ARRAYS_MIN: Final = 512  # lists this long are written as arrays (shorter ones unpickle fast)
MAGIC: Final = b"IMRPLA\x00\x01"
HEAD: Final = struct.Struct("<IIII")  # count, first span, spans, weight kind
FOOT: Final = struct.Struct("<QQ8s")  # lists, where the keys start, magic
SPAN_BITS: Final = 16
ASK_MIN: Final = 8192  # lists of more bytes are asked for whole (not a fault a page)
_KINDS: Final = (None, np.dtype("<u1"), np.dtype("<u2"), np.dtype("<u4"))  # by weight kind

__all__ = ["ARRAYS_EXT", "ARRAYS_MIN", "ArrayWriter", "PostingArrays"]


def _kind(top: int) -> int:
    """The weight kind of a list whose largest weight is top (every weight at least 1)."""
    return 0 if top <= 1 else 1 if top <= 0xFF else 2 if top <= 0xFFFF else 3


def encode(ids: Any, freqs: Any) -> bytes:
    """One list's entry: its ids split into spans and low bits, its weights (term counts)."""
    docs = np.asarray(ids, dtype=np.int64)
    counts = np.asarray(freqs, dtype=np.int64)
    spans = docs >> SPAN_BITS
    first = int(spans[0])
    per_span = np.bincount(spans - first).astype("<u4")
    kind = _kind(int(counts.max()))
    dtype = _KINDS[kind]
    parts = [
        HEAD.pack(len(docs), first, len(per_span), kind),
        per_span.tobytes(),
        (docs & 0xFFFF).astype("<u2").tobytes(),
    ]
    if dtype is not None:
        parts.append(counts.astype(dtype).tobytes())
    return b"".join(parts)


class ArrayWriter:
    """Writes a segment's posting arrays to a file (a Whoosh StructFile or any binary file)
    as its lists come; only each list's two offsets are kept until the end."""

    def __init__(self, dbfile: Any) -> None:
        self.dbfile = dbfile
        self.keys: list[int] = []
        self.where: list[int] = []
        self.pos = len(MAGIC)
        dbfile.write(MAGIC)

    def add(self, key: int, ids: Any, freqs: Any) -> None:
        """A list whose Whoosh blocks start at `key` in the posting file (keys ascend)."""
        if self.keys and key <= self.keys[-1]:
            raise ValueError(f"posting arrays out of order: {key} after {self.keys[-1]}")
        data = encode(ids, freqs)
        self.keys.append(key)
        self.where.append(self.pos)
        self.dbfile.write(data)
        self.pos += len(data)

    def close(self) -> None:
        """Write the keys, the offsets and the footer, and close the file."""
        table = self.pos
        self.dbfile.write(np.asarray(self.keys, dtype="<u8").tobytes())
        self.dbfile.write(np.asarray(self.where, dtype="<u8").tobytes())
        self.dbfile.write(FOOT.pack(len(self.keys), table, MAGIC))
        self.dbfile.close()


class PostingArrays:
    """A segment's posting arrays over its (mapped) bytes; reads are positional."""

    def __init__(
        self, view: memoryview, willneed: Callable[[int, int], None] | None = None
    ) -> None:
        if len(view) < len(MAGIC) + FOOT.size or bytes(view[: len(MAGIC)]) != MAGIC:
            raise ValueError("not a posting arrays file")
        n, table, magic = FOOT.unpack_from(view, len(view) - FOOT.size)
        if magic != MAGIC or table + 16 * n + FOOT.size != len(view):
            raise ValueError("posting arrays file truncated or corrupt")
        self.view = view
        self.keys = np.frombuffer(view, dtype="<u8", count=n, offset=table)
        self.where = np.frombuffer(view, dtype="<u8", count=n, offset=table + 8 * n)
        self.end = table  # where the lists end
        self.willneed = willneed  # asks for a range about to be read whole (a mapped file)

    def __len__(self) -> int:
        return len(self.keys)

    def read(self, key: int) -> tuple[IntArray, FloatArray] | None:
        """(ids, weights) of the list whose Whoosh blocks start at key; None if it is not
        here (or its entry does not add up: the Whoosh blocks are read instead)."""
        k = int(np.searchsorted(self.keys, key))
        if k == len(self.keys) or int(self.keys[k]) != key:
            return None
        at = int(self.where[k])
        count, first, spans, kind = HEAD.unpack_from(self.view, at)
        at += HEAD.size
        dtype = _KINDS[kind] if kind < len(_KINDS) else None
        size = 4 * spans + 2 * count + (dtype.itemsize * count if dtype is not None else 0)
        if kind >= len(_KINDS) or at + size > self.end:
            return None
        if self.willneed is not None and size > ASK_MIN:
            self.willneed(at, size)
        per_span = np.frombuffer(self.view, dtype="<u4", count=spans, offset=at)
        at += 4 * spans
        ids: IntArray = np.frombuffer(self.view, dtype="<u2", count=count, offset=at).astype(
            np.int64
        )
        at += 2 * count
        if spans == 1:
            if first:
                ids += first << SPAN_BITS
        else:
            ends = np.cumsum(per_span, dtype=np.int64)
            if int(ends[-1]) != count:
                return None
            # each span's base added to its run of ids in place (a span is 65,536 documents:
            # a few per segment), not a repeated array as long as the list
            begin = 0
            for span, end in enumerate(ends.tolist()):
                if first + span:
                    ids[begin:end] += (first + span) << SPAN_BITS
                begin = end
        if dtype is None:
            return ids, np.ones(count, dtype=np.float32)
        raw = np.frombuffer(self.view, dtype=dtype, count=count, offset=at)
        return ids, raw.astype(np.float32)
