"""A faster Whoosh segment writer for pre-analyzed documents, writing Whoosh's own W3 format.

Stock Whoosh spends ~12 us per posting at commit (a sorted pool of per-posting tuples, then
one Python call per posting with per-posting length lookups). This writer collects each
term's postings in a list while documents are added and writes every posting list in one
go, block by block, exactly as W3FieldWriter would (uncompressed blocks, no per-term length
statistics, which only Whoosh's own block-quality scorer reads). Stored fields, columns and
field lengths still go through Whoosh's per-document writer. Segments it writes are read
by plain Whoosh.
"""

from __future__ import annotations

import itertools
import os
from pickle import dumps
from typing import Any, Final

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.writing import SegmentWriter

from .engine_segments import read_postings
from .schema import PreAnalyzed, unpack_terms

BLOCK: Final = 128  # postings per block, as Whoosh's W3 codec
INDEX_NAME: Final = "MAIN"


def _fsync_path(path: str, *, directory: bool = False) -> None:
    """fsync one file or directory."""
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


MAX_SEGMENTS: Final = 12  # above this, a commit merges the smallest segments


def merge_tiered(writer: Any, segments: list[Any]) -> list[Any]:
    """Merge policy: leave segments alone until there are too many, then merge the smallest.

    Whoosh's MERGE_SMALL re-merges small segments on almost every commit; with batch commits
    that rewrites every posting many times over.
    """
    if len(segments) <= MAX_SEGMENTS:
        return list(segments)
    from whoosh.reading import SegmentReader

    ordered = sorted(segments, key=lambda seg: seg.doc_count_all())
    cut = len(ordered) - MAX_SEGMENTS // 2
    for seg in ordered[:cut]:
        reader = SegmentReader(writer.storage, writer.schema, seg)
        writer.add_reader(reader)
        reader.close()
    return ordered[cut:]


class FastWriter(SegmentWriter):  # type: ignore[misc]
    """SegmentWriter with bulk posting lists and a durable commit (Whoosh never fsyncs)."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        # fieldname -> term -> [docnum, freq, docnum, freq, ...]. Lists, not arrays: a long
        # array grows by realloc/mremap in small steps (system time), a list geometrically;
        # the docnum is one shared int object per document, so a posting costs 16 bytes.
        self._post: dict[str, dict[str, list[int]]] = {}

    def add_document(self, **fields: Any) -> None:
        """Add one document whose text fields are PreAnalyzed [(term, freq), ...] lists."""
        self._check_state()
        schema = self.schema
        docnum = self.docnum
        post = self._post
        pdw = self.perdocwriter
        pdw.start_doc(docnum)
        for name in sorted(fields):
            value = fields[name]
            if value is None:
                continue
            fieldobj = schema[name]
            length = 0
            if fieldobj.indexed:
                if isinstance(fieldobj, PreAnalyzed):
                    items: Any = unpack_terms(value)
                else:  # ID fields: whoosh analyzes them (one term)
                    items = [(t.decode("utf-8"), f) for t, f, _w, _v in fieldobj.index(value)]
                terms = post.get(name)
                if terms is None:
                    terms = post[name] = {}
                get = terms.get
                for term, freq in items:
                    found = get(term)
                    if found is None:
                        terms[term] = [docnum, freq]
                    else:
                        found += (docnum, freq)
                    length += freq
            stored = value if fieldobj.stored else None
            pdw.add_field(name, fieldobj, stored, length if fieldobj.scorable else 0)
            column = fieldobj.column_type
            if column:
                pdw.add_column_value(name, column, fieldobj.to_column_value(value))
        pdw.finish_doc()
        self._added = True
        self.docnum += 1

    def add_postings_to_pool(self, reader: Any, startdoc: int, docmap: Any) -> None:
        """Merging: copy a segment's posting lists, renumbered, into ours (vectorized)."""
        n = reader.doc_count_all()
        if docmap is None:
            mapping = np.arange(startdoc, startdoc + n, dtype=np.int64)
        else:
            mapping = np.full(n, -1, dtype=np.int64)
            for old, new in docmap.items():
                mapping[old] = new
        post = self._post
        terms = reader._terms
        for keybytes, infobytes in terms._tindex.items():
            fieldname, tbytes = terms._keydecoder(keybytes)
            if fieldname not in self.schema:
                continue
            ids, weights = read_postings(terms, W3TermInfo.from_bytes(infobytes))
            new = mapping[ids[ids < n]]
            keep = new >= 0
            if not keep.any():
                continue
            pairs = np.empty(2 * int(keep.sum()), dtype=np.uint32)
            pairs[0::2] = new[keep]
            pairs[1::2] = weights[: len(ids)][ids < n][keep]
            terms_of = post.setdefault(fieldname, {})
            term = tbytes.decode("utf-8")
            found = terms_of.get(term)
            if found is None:
                found = terms_of[term] = []
            # Merged segments come after this writer's own documents, in order, so each
            # posting list stays sorted by docnum.
            found.extend(pairs.tolist())

    def _flush_segment(self) -> None:
        """Write the per-document files, then every posting list in term order."""
        self.perdocwriter.close()
        fw = self.fieldwriter
        postfile = fw._postfile
        tindex = fw._tindex
        fieldmap = fw._fieldmap
        for name, term, flat in self._sorted_postings():
            fieldid = fieldmap.get(name)
            if fieldid is None:
                fieldid = fieldmap[name] = len(fieldmap)
            ids = flat[0::2]
            freqs = flat[1::2]
            if len(ids) > 1 and any(b <= a for a, b in itertools.pairwise(ids)):
                order = sorted(range(len(ids)), key=ids.__getitem__)  # merges add out of order
                ids = [ids[i] for i in order]
                freqs = [freqs[i] for i in order]
            offset = postfile.tell()
            postfile.write(WHOOSH3_HEADER_MAGIC)
            count = len(ids)
            coded: Any = None
            if count > BLOCK:  # long lists: delta-code in numpy (each block starts from zero)
                arr = np.asarray(ids, dtype=np.int64)
                coded = np.diff(arr, prepend=0)
                coded[::BLOCK] = arr[::BLOCK]
            for start in range(0, count, BLOCK):
                bids = ids[start : start + BLOCK]
                bfreqs = freqs[start : start + BLOCK]
                if coded is not None:
                    deltas = coded[start : start + BLOCK].tolist()
                else:
                    prev = 0  # each block's ids are delta-coded from zero, as Whoosh's
                    deltas = []
                    for d in bids:
                        deltas.append(d - prev)
                        prev = d
                top = max(bfreqs)
                if top == 1:
                    weights: Any = None
                elif min(bfreqs) == top:
                    weights = float(top)
                else:
                    weights = tuple(float(f) for f in bfreqs)
                data = dumps((tuple(deltas), weights, None), 2)
                info = dumps((len(bids), bids[-1], float(top), 0, 0, 0), 2)
                size = len(info) + len(data)
                postfile.write_int(-size if start + BLOCK >= count else size)
                postfile.write(info)
                postfile.write(data)
            length = postfile.tell() - offset
            head = W3TermInfo._struct.pack(
                0, float(sum(freqs)), count, 0, 0, float(max(freqs)), ids[0], ids[-1]
            )
            tindex.add(
                pack_ushort(fieldid) + term.encode("utf-8"),
                head + pack_long(offset) + pack_int(length),
            )
        self._post = {}
        fw.close()

    def _sorted_postings(self) -> Any:
        """(fieldname, term, postings) in Whoosh's term order (UTF-8 order == str order)."""
        for name in sorted(self._post):
            terms = self._post[name]
            for term in sorted(terms):
                yield name, term, terms[term]

    def _commit_toc(self, segments: Any) -> None:
        """Make the new segment files durable before the TOC that names them, then the TOC."""
        folder = self.storage.folder
        for name in os.listdir(folder):
            full = os.path.join(folder, name)
            if os.path.isfile(full) and not name.endswith(("LOCK", ".lock")):
                _fsync_path(full)
        super()._commit_toc(segments)
        toc = os.path.join(folder, f"_{INDEX_NAME}_{self.generation}.toc")
        if os.path.exists(toc):
            _fsync_path(toc)
        _fsync_path(folder, directory=True)  # the rename itself
