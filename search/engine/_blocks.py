"""Posting blocks of the W3 format decoded into arrays: with numpy, or by unpickling.

A W3 posting list is blocks of up to 128 postings, each a pickled head (count, maxid,
maxweight, compression, minlen, maxlen) followed by pickled (deltas, weights, values).
Unpickling makes a Python int and float per posting; for the plain blocks our writer makes
(one-byte deltas after the first, no compression), the opcodes sit at fixed places, so numpy
reads every block of a list at once after checking each opcode and each block's exact end.
"""

from __future__ import annotations

import io
import zlib
from pickle import Unpickler, loads
from typing import Any, Final

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]
Array = npt.NDArray[Any]

__all__ = ["mixed_blocks", "pickled_blocks", "plain_blocks", "plain_heads", "undelta"]


def pickled_blocks(
    postfile: Any, starts: list[int], sizes: list[int]
) -> tuple[IntArray, FloatArray]:
    """Blocks decoded by unpickling: (count, maxid, maxweight, compression, minlen, maxlen),
    then (deltas, weights, values)."""
    deltas: list[int] = []
    weights: list[float] = []
    counts: list[int] = []
    for start, size in zip(starts, sizes, strict=True):
        count, block_ids, block_weights = _unpickled(postfile.get(start, size))
        deltas.extend(block_ids)
        if block_weights is None:
            weights.extend([1.0] * count)
        elif isinstance(block_weights, float):
            weights.extend([block_weights] * count)
        else:
            weights.extend(block_weights)
        counts.append(count)
    return undelta(np.asarray(deltas, dtype=np.int64), np.asarray(counts, dtype=np.int64)), (
        np.asarray(weights, dtype=np.float32)
    )


def undelta(deltas: IntArray, counts: IntArray) -> IntArray:
    """Each block's ids are delta-coded from zero: a running sum, restarted at every block."""
    flat: IntArray = np.cumsum(deltas)
    if len(counts) > 1:
        ends = np.cumsum(counts)
        before = np.concatenate(([0], flat[ends[:-1] - 1]))
        flat -= np.repeat(before, counts)
    return flat


# Pickle opcodes of the blocks our writer writes (Whoosh's own blocks carry length
# statistics in their head, so they fail the checks below and are unpickled).
_K, _M, _J, _G, _N, _T, _Q, _MARK, _PROTO = b"KMJGNtq(\x80"
_HEAD_TAIL: Final = np.frombuffer(b"K\x00K\x00K\x00tq\x00.", np.uint8)  # compression, lengths 0
_NONE_TAIL: Final = np.frombuffer(b"NN\x87q\x01.", np.uint8)  # weights None, values None
_FLOAT_TAIL: Final = np.frombuffer(b"N\x87q\x01.", np.uint8)  # after one float weight
_TUPLE_TAIL: Final = np.frombuffer(b"tq\x01N\x87q\x02.", np.uint8)  # after a weights tuple


def _at(raw: Array, where: Any) -> Array:
    """raw[where], positions past the end clipped (the exact-end checks reject such blocks)."""
    result: Array = np.take(raw, where, mode="clip")
    return result


def _matches(raw: Array, where: IntArray, pattern: Array) -> BoolArray:
    """Per position: the bytes there equal pattern."""
    found = _at(raw, where[:, None] + np.arange(len(pattern)))
    result: BoolArray = (found == pattern).all(axis=1)
    return result


def _doubles(raw: Array, where: IntArray) -> tuple[BoolArray, FloatArray]:
    """At each position a BINFLOAT ("G" and a big-endian double): whether the opcode is
    there, and the values as float32. One byte-gather per byte (gathers from the contiguous
    bytes are far cheaper than from a strided multi-byte view)."""
    at = where.copy()
    op: BoolArray = _at(raw, at) == _G
    packed = np.empty((len(where), 8), dtype=np.uint8)
    for k in range(8):
        at += 1
        packed[:, k] = _at(raw, at)
    values: FloatArray = packed.view(">f8").ravel().astype(np.float32)
    return op, values


def _int_at(raw: Array, where: IntArray, width: IntArray) -> IntArray:
    """Little-endian unsigned integers of 1, 2 or 4 bytes at the positions."""
    value = _at(raw, where).astype(np.int64)
    value |= np.where(width > 1, _at(raw, where + 1).astype(np.int64) << 8, 0)
    value |= np.where(width == 4, _at(raw, where + 2).astype(np.int64) << 16, 0)
    value |= np.where(width == 4, _at(raw, where + 3).astype(np.int64) << 24, 0)
    return value


def _width(op: Array) -> IntArray:
    """Bytes of a BININT1, BININT2 or BININT argument (0: another opcode)."""
    result: IntArray = np.where(op == _K, 1, np.where(op == _M, 2, np.where(op == _J, 4, 0)))
    return result


def plain_heads(raw: Array, first: IntArray, sizes: IntArray) -> BoolArray:
    """Per block: whether it is in the plain form of a dense list (every per-block opcode
    and its exact end checked; the per-posting opcodes are checked when decoding)."""
    width = _width(_at(raw, first + 5))  # the head's maxid: BININT1, BININT2 or BININT
    ok = (_at(raw, first) == _PROTO) & (_at(raw, first + 1) == 2) & (width > 0)
    ok &= _at(raw, first + 2) == _MARK
    ok &= (_at(raw, first + 3) == _K) & (_at(raw, first + 6 + width) == _G)
    ok &= _matches(raw, first + 15 + width, _HEAD_TAIL)
    count = _at(raw, first + 4).astype(np.int64)
    data = first + 25 + width
    ok &= (_at(raw, data) == _PROTO) & (_at(raw, data + 1) == 2) & (count >= 4)
    ok &= _at(raw, data + 2) == _MARK
    lead = _width(_at(raw, data + 3))
    ok &= lead > 0
    tup = data + 3 + (1 + lead) + 2 * (count - 1)
    ok &= (_at(raw, tup) == _T) & (_at(raw, tup + 1) == _Q) & (_at(raw, tup + 2) == 0)
    wp = tup + 3
    kind = _at(raw, wp)
    end = first + sizes
    none = (kind == _N) & _matches(raw, wp, _NONE_TAIL) & (wp + len(_NONE_TAIL) == end)
    one = (kind == _G) & _matches(raw, wp + 9, _FLOAT_TAIL) & (wp + 9 + len(_FLOAT_TAIL) == end)
    after = wp + 1 + 9 * count
    many = (kind == _MARK) & _matches(raw, after, _TUPLE_TAIL)
    many &= after + len(_TUPLE_TAIL) == end
    result: BoolArray = ok & (none | one | many)
    return result


def plain_blocks(
    raw: Array, first: IntArray, sizes: IntArray, heads: BoolArray | None = None
) -> tuple[IntArray, FloatArray] | None:
    """Decode every block with numpy when all are in the plain form of a dense list: at least
    4 postings, every delta one byte (pickle's BININT1), weights None, one float or a tuple
    of floats, no compression. Every opcode and the block's exact end are checked, so any
    other form returns None (and is unpickled instead). heads: plain_heads' answer, if known."""
    if not (plain_heads(raw, first, sizes) if heads is None else heads).all():
        return None
    return _decode_plain(raw, first)


_FLOAT_ITEM: Final = np.dtype([("op", "u1"), ("value", ">f8")])  # BINFLOAT: "G", 8 bytes


def _regions(raw: Array, starts: IntArray, lengths: IntArray) -> Array | None:
    """The byte ranges [start, start + length) of raw joined into one array (a memcpy per
    block instead of a gather per byte); None if one runs past the end."""
    view = raw.data  # (raw is one contiguous run of bytes)
    parts = [view[s : s + k] for s, k in zip(starts.tolist(), lengths.tolist(), strict=True)]
    joined = b"".join(parts)
    if len(joined) != int(lengths.sum()):
        return None
    return np.frombuffer(joined, np.uint8)


def _decode_plain(raw: Array, first: IntArray) -> tuple[IntArray, FloatArray] | None:
    """Blocks whose heads passed plain_heads, decoded; None if a posting's opcode is not the
    plain one (a delta of two or more bytes, a weight that is not a BINFLOAT)."""
    width = _width(_at(raw, first + 5))
    maxid = _int_at(raw, first + 6, width)
    count = _at(raw, first + 4).astype(np.int64)
    data = first + 25 + width
    lead = _width(_at(raw, data + 3))
    lead_value = _int_at(raw, data + 4, lead)
    block_start = np.cumsum(count) - count
    # A block's deltas after the first are "K" and one byte each, up to its tuple's end:
    # joined from 2 bytes before the second one, a block's first pair is the tail of its
    # lead (any width), which the lead value replaces.
    joined = _regions(raw, data + 2 + lead, 2 * count)
    if joined is None:
        return None
    pairs = joined.reshape(-1, 2)
    plain = pairs[:, 0] == _K
    plain[block_start] = True
    if not plain.all():
        return None
    deltas = pairs[:, 1].astype(np.int64)
    del joined, pairs, plain
    # Ids are delta-coded from zero in each block; the head's maxid is the block's last id,
    # so a block's first delta from the previous block's last id makes one running sum.
    deltas[block_start] = lead_value - np.r_[0, maxid[:-1]]
    ids: IntArray = np.cumsum(deltas)
    if not np.array_equal(ids[block_start + count - 1], maxid):
        deltas[block_start] = lead_value  # a head whose maxid is not the last id
        ids = undelta(deltas, count)
    del deltas
    wp = data + 3 + (1 + lead) + 2 * (count - 1) + 3
    kind = _at(raw, wp)
    many = kind == _MARK
    one = kind == _G
    values: FloatArray | None = None
    if many.any():  # a tuple of weights: "(" then a BINFLOAT per posting
        items = _regions(raw, wp[many] + 1, 9 * count[many])
        if items is None:
            return None
        floats = np.frombuffer(items, dtype=_FLOAT_ITEM)
        if not (floats["op"] == _G).all():
            return None
        values = floats["value"].astype(np.float32)
        if many.all():
            return ids, values
    per_block = np.ones(len(first), dtype=np.float32)
    if one.any():
        per_block[one] = _doubles(raw, wp[one])[1]
    weights = np.repeat(per_block, count)
    if values is not None:
        weights[np.repeat(many, count)] = values
    return ids, weights


def mixed_blocks(
    raw: Array, first: IntArray, sizes: IntArray, heads: BoolArray | None = None
) -> tuple[IntArray, FloatArray]:
    """Decode a list whose blocks are only partly plain (a short last block, a sparse block
    with wider deltas): the plain ones with numpy, the others by unpickling, in list order.
    heads: plain_heads' answer, if known (it is not changed)."""
    ok = plain_heads(raw, first, sizes) if heads is None else heads.copy()
    fast = _decode_plain(raw, first[ok]) if ok.any() else None
    if fast is None:
        ok[:] = False
    parts: list[tuple[IntArray, FloatArray]] = []
    counts = np.zeros(len(first), dtype=np.int64)
    if fast is not None:
        counts[ok] = _at(raw, first[ok] + 4)
    for b in np.flatnonzero(~ok):
        start, size = int(first[b]), int(sizes[b])
        part = _unpickle_block(bytes(raw[start : start + size]))
        counts[b] = len(part[0])
        parts.append(part)
    if fast is not None and ok[: int(np.count_nonzero(ok))].all():
        # The plain blocks come first (most often all but a short last one): joined.
        ids = np.concatenate([fast[0], *(part[0] for part in parts)])
        return ids, np.concatenate([fast[1], *(part[1] for part in parts)])
    ids = np.zeros(int(counts.sum()), dtype=np.int64)
    weights = np.zeros(len(ids), dtype=np.float32)
    offsets = np.cumsum(counts) - counts
    if fast is not None:
        plain = np.repeat(offsets[ok], counts[ok])
        plain += np.arange(len(plain)) - np.repeat(np.cumsum(counts[ok]) - counts[ok], counts[ok])
        ids[plain], weights[plain] = fast
    for b, (part_ids, part_weights) in zip(np.flatnonzero(~ok), parts, strict=True):
        at = int(offsets[b])
        ids[at : at + len(part_ids)] = part_ids
        weights[at : at + len(part_ids)] = part_weights
    return ids, weights


def _unpickled(block: bytes) -> tuple[int, Any, Any]:
    """A pickled block's posting count, delta-coded ids and weights (its header read first)."""
    head = io.BytesIO(block)
    count, _maxid, _maxw, compression, _mn, _mx = Unpickler(head).load()
    data = block[head.tell() :]
    if compression:
        data = zlib.decompress(data)
    block_ids, block_weights, _values = loads(data)
    return count, block_ids, block_weights


def _unpickle_block(block: bytes) -> tuple[IntArray, FloatArray]:
    """One block by unpickling: its ids (from its delta-coded ids) and weights."""
    count, block_ids, block_weights = _unpickled(block)
    if block_weights is None:
        weights = np.ones(count, dtype=np.float32)
    elif isinstance(block_weights, float):
        weights = np.full(count, block_weights, dtype=np.float32)
    else:
        weights = np.asarray(block_weights, dtype=np.float32)
    return np.cumsum(np.asarray(block_ids, dtype=np.int64)), weights
