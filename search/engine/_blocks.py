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

__all__ = ["pickled_blocks", "plain_blocks", "undelta"]


def pickled_blocks(
    postfile: Any, starts: list[int], sizes: list[int]
) -> tuple[IntArray, FloatArray]:
    """Blocks decoded by unpickling: (count, maxid, maxweight, compression, minlen, maxlen),
    then (deltas, weights, values)."""
    deltas: list[int] = []
    weights: list[float] = []
    counts: list[int] = []
    for start, size in zip(starts, sizes, strict=True):
        block = postfile.get(start, size)
        head = io.BytesIO(block)
        count, _maxid, _maxw, compression, _mn, _mx = Unpickler(head).load()
        data = block[head.tell() :]
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


def plain_blocks(
    raw: Array, first: IntArray, sizes: IntArray
) -> tuple[IntArray, FloatArray] | None:
    """Decode every block with numpy when all are in the plain form of a dense list: at least
    4 postings, every delta one byte (pickle's BININT1), weights None, one float or a tuple
    of floats, no compression. Every opcode and the block's exact end are checked, so any
    other form returns None (and is unpickled instead)."""
    op = _at(raw, first + 5)  # the head's maxid: BININT1, BININT2 or BININT
    width = np.where(op == _K, 1, np.where(op == _M, 2, np.where(op == _J, 4, 0)))
    ok = (_at(raw, first) == _PROTO) & (_at(raw, first + 1) == 2) & (width > 0)
    ok &= _at(raw, first + 2) == _MARK
    ok &= (_at(raw, first + 3) == _K) & (_at(raw, first + 6 + width) == _G)
    ok &= _matches(raw, first + 15 + width, _HEAD_TAIL)
    count = _at(raw, first + 4).astype(np.int64)
    data = first + 25 + width
    ok &= (_at(raw, data) == _PROTO) & (_at(raw, data + 1) == 2) & (count >= 4)
    ok &= _at(raw, data + 2) == _MARK
    if not ok.all():
        return None
    # The deltas: a block's first is its first docnum (BININT1, BININT2 or BININT), every
    # other one a BININT1 opcode and its byte.
    lead_op = _at(raw, data + 3)
    lead = np.where(lead_op == _K, 1, np.where(lead_op == _M, 2, np.where(lead_op == _J, 4, 0)))
    if not (lead > 0).all():
        return None
    lead_value = _at(raw, data + 4).astype(np.int64)
    lead_value |= np.where(lead > 1, _at(raw, data + 5).astype(np.int64) << 8, 0)
    four = np.where(lead == 4, _at(raw, data + 6).astype(np.int64) << 16, 0)
    lead_value |= four | np.where(lead == 4, _at(raw, data + 7).astype(np.int64) << 24, 0)
    total = int(count.sum())
    block_start = np.cumsum(count) - count
    j = np.arange(total) - np.repeat(block_start, count)
    where = np.repeat(data + 3 + lead - 1, count) + 2 * j  # for j >= 1
    rest = j > 0
    if not (_at(raw, where[rest]) == _K).all():
        return None
    deltas = _at(raw, where + 1).astype(np.int64)
    deltas[block_start] = lead_value
    tup = data + 3 + (1 + lead) + 2 * (count - 1)
    ok = (_at(raw, tup) == _T) & (_at(raw, tup + 1) == _Q) & (_at(raw, tup + 2) == 0)
    wp = tup + 3
    kind = _at(raw, wp)
    end = first + sizes
    none = (kind == _N) & _matches(raw, wp, _NONE_TAIL) & (wp + len(_NONE_TAIL) == end)
    one = (kind == _G) & _matches(raw, wp + 9, _FLOAT_TAIL) & (wp + 9 + len(_FLOAT_TAIL) == end)
    after = wp + 1 + 9 * count
    many = (kind == _MARK) & _matches(raw, after, _TUPLE_TAIL)
    many &= after + len(_TUPLE_TAIL) == end
    if not (ok & (none | one | many)).all():
        return None
    weights = np.ones(total, dtype=np.float32)
    if one.any():
        value = _floats(raw, wp[one] + 1)
        weights[np.repeat(one, count)] = np.repeat(value, count[one])
    if many.any():
        gpos = np.repeat(wp + 1, count) + 9 * j
        sel = np.repeat(many, count)
        if not (_at(raw, gpos[sel]) == _G).all():
            return None
        weights[sel] = _floats(raw, gpos[sel] + 1)
    return undelta(deltas, count), weights


def _floats(raw: Array, where: IntArray) -> FloatArray:
    """Big-endian doubles at the positions, as float32."""
    bytes8 = np.ascontiguousarray(_at(raw, where[:, None] + np.arange(8)), dtype=np.uint8)
    result: FloatArray = bytes8.view(">f8").ravel().astype(np.float32)
    return result
