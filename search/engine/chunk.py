"""Inverting a chunk of letters in a parse worker, so the writer only appends posting lists.

A worker turns the Whoosh documents of up to a few hundred letters into one small inverted
index: per field, the chunk's terms and, for each, its (local document, frequency) pairs, in
flat uint32 arrays that pickle in microseconds. The writer then pays per (chunk, term) rather
than per posting: one slice and one list extend (see FastWriter.add_chunk).
"""

from __future__ import annotations

import itertools
from array import array
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from ..schema import SCHEMA, PreAnalyzed, field_terms

TERM_SEP: Final = "\x00"  # no term, id or path contains a NUL

# One per-document writer call: (field, stored value or None, length, column value or None).
DocOp = tuple[str, Any, int, Any]


@dataclass(frozen=True, slots=True)
class FieldPostings:
    """One field's postings of a chunk: terms, and their pairs as flat uint32 arrays."""

    terms: str  # the terms joined by TERM_SEP
    ends: bytes  # array("I"): where each term's pairs end in pairs (counted in ints)
    pairs: bytes  # array("I"): local document, frequency, local document, frequency, ...


@dataclass(frozen=True, slots=True)
class Inverted:
    """The documents of a chunk: per-document writer calls, and the postings per field."""

    docs: list[list[DocOp]]
    fields: dict[str, FieldPostings]


def _whole_value(fieldobj: Any) -> bool:
    """Whether a field indexes a value as one term, as written (an ID field: Whoosh's
    analysis per value is then skipped). Checked on sample values, not assumed."""
    if isinstance(fieldobj, PreAnalyzed) or not fieldobj.indexed:
        return False
    samples = ("CM17-0013077", "/a/B c.txt ", "x")
    return all(list(field_terms(fieldobj, v)) == [(v, 1)] for v in samples)


def _spec(fieldobj: Any) -> tuple[bool, bool, bool, bool, Any]:
    """What inverting needs of a field: indexed, one term per value, stored, scorable, its
    column function."""
    column = fieldobj.to_column_value if fieldobj.column_type else None
    return (
        bool(fieldobj.indexed),
        _whole_value(fieldobj),
        bool(fieldobj.stored),
        bool(fieldobj.scorable),
        column,
    )


# Looked up once per field here, not as four attributes of the field object per value.
_SPECS: Final = {name: _spec(fieldobj) for name, fieldobj in SCHEMA.items()}


def invert(docs: list[dict[str, Any]]) -> Inverted:
    """Invert Whoosh documents (as record_documents makes them), numbered from 0 in order."""
    specs = _SPECS
    schema = SCHEMA
    # field -> (terms, local documents, frequencies), one entry per posting, in document order
    flat: dict[str, tuple[list[str], array[int], array[int]]] = {}
    ops_of_docs: list[list[DocOp]] = []
    for local, doc in enumerate(docs):
        ops: list[DocOp] = []
        for name in sorted(doc):
            value = doc[name]
            if value is None:
                continue
            indexed, whole, stored, scorable, to_column = specs[name]
            length = 0
            if indexed:
                if whole:
                    counts = {value: 1}
                elif isinstance(value, dict):
                    counts = value
                else:
                    counts = dict(field_terms(schema[name], value))
                if counts:
                    found = flat.get(name)
                    if found is None:
                        found = flat[name] = ([], array("I"), array("I"))
                    found[0].extend(counts)
                    found[1].extend(itertools.repeat(local, len(counts)))
                    freqs = counts.values()
                    found[2].extend(freqs)
                    if scorable:
                        length = sum(freqs)
            ops.append((name, value if stored else None, length, to_column and to_column(value)))
        ops_of_docs.append(ops)
    return Inverted(ops_of_docs, {name: _group(*lists) for name, lists in flat.items()})


def _group(terms: list[str], locals_: array[int], freqs: array[int]) -> FieldPostings:
    """One field's postings grouped by term (documents stay in order within a term)."""
    n = len(terms)
    first: dict[str, int] = {}  # term -> index of its first posting
    tid = np.fromiter(map(first.setdefault, terms, itertools.count()), np.int64, count=n)
    pairs = np.empty((n, 2), dtype=np.uint32)
    if len(first) == n:  # every term once (a facet, a short field): grouped as it is
        pairs[:, 0] = np.frombuffer(locals_, dtype=np.uint32)
        pairs[:, 1] = np.frombuffer(freqs, dtype=np.uint32)
        ends = np.arange(2, 2 * n + 1, 2, dtype=np.uint32)
        return FieldPostings(TERM_SEP.join(first), ends.tobytes(), pairs.tobytes())
    order = np.argsort(tid, kind="stable")
    counts = np.bincount(tid, minlength=n)[np.fromiter(first.values(), np.int64, len(first))]
    pairs[:, 0] = np.frombuffer(locals_, dtype=np.uint32)[order]
    pairs[:, 1] = np.frombuffer(freqs, dtype=np.uint32)[order]
    ends = (2 * np.cumsum(counts)).astype(np.uint32)
    return FieldPostings(TERM_SEP.join(first), ends.tobytes(), pairs.tobytes())
