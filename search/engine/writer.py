"""A faster Whoosh segment writer for pre-analyzed documents, writing Whoosh's own W3 format.

Stock Whoosh spends ~12 us per posting at commit (a sorted pool of per-posting tuples, then
one Python call per posting with per-posting length lookups). This writer takes chunks of
documents already inverted by the parse workers (engine_chunk), so it pays per (chunk, term)
rather than per posting, keeps each term's postings in a uint32 array, and writes every
posting list in one go, block by block, as W3FieldWriter would (uncompressed blocks, no
per-term length statistics, which only Whoosh's own block-quality scorer reads). Lists of
up to INLINE_MAX postings are inlined into the term index, as Whoosh's inlinelimit does.
Stored fields, columns and field lengths of added documents go through Whoosh's per-document
writer; a merged segment's are copied column by column (percopy).
Segments it writes are read by plain Whoosh.
"""

from __future__ import annotations

import heapq
import os
import struct
from array import array
from collections.abc import Iterator
from hashlib import md5
from operator import sub
from pickle import dumps
from typing import Any, Final

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3TermInfo, _lenfield
from whoosh.filedb.filetables import md5_hash
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numeric import length_to_byte
from whoosh.writing import SegmentWriter

from ..schema import SCHEMA, field_terms
from ._arrays import ARRAYS_EXT, ARRAYS_MIN, ArrayWriter
from ._codec import attach_arrays, field_names, field_records, trim_mapped
from .chunk import TERM_SEP, Inverted
from .merging import join_postings, shift_of, tagged, write_per_doc
from .percopy import copy_per_doc

BLOCK: Final = 128  # postings per block, as Whoosh's W3 codec
NUMPY_FROM: Final = 48  # posting lists this long have their block deltas computed by numpy
INDEX_NAME: Final = "MAIN"
INLINE_MAX: Final = 4  # posting lists this short are inlined into the term index
LIST_WINDOW: Final = 1 << 16  # postings converted to Python ints at a time at flush
FLUSH_BYTES: Final = 8 << 20  # posting bytes buffered before a write
# Heap bytes of one buffered (part, term) entry: its share of the part's joined terms and
# ends, and of the flush, which splits a field's terms into strs and ranks them in a dict.
ENTRY_BYTES: Final = 96
DOC_BYTES: Final = 120  # heap bytes of one buffered document (column and length buffers)


def _fsync_path(path: str, *, directory: bool = False) -> None:
    """fsync one file or directory."""
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_LENFIELD: Final = {name: _lenfield(name) for name in SCHEMA.names()}  # field -> length column
_LENGTHS: Final = struct.Struct("!ii")  # a hash file record's key and value lengths
_POINTER_SIZE: Final = struct.calcsize("!Iq")  # a hash table slot: hash, position


def _block_deltas(ids: array[int]) -> list[int]:
    """Each posting's document number minus the previous one's, from zero in each block."""
    docs = np.frombuffer(ids, dtype=np.uint32).astype(np.int64)
    deltas = np.empty_like(docs)
    deltas[0] = docs[0]
    np.subtract(docs[1:], docs[:-1], out=deltas[1:])
    deltas[::BLOCK] = docs[::BLOCK]
    out: list[int] = deltas.tolist()
    return out


_Part = tuple[str, Any, Any]  # terms joined by TERM_SEP, their ends (in ints), uint32 pairs


def _field_postings(parts: list[_Part]) -> Iterator[tuple[str, array[int], array[int]]]:
    """(term, ids, freqs) of one field's buffered parts, in term order, the documents in
    the order they were added."""
    if not parts:
        return
    names: list[str] = []
    for terms, _, _ in parts:
        names += terms.split(TERM_SEP)
    unique = sorted(set(names))  # code point order: the order of the terms' UTF-8 bytes
    rank = dict(zip(unique, range(len(unique)), strict=True))
    entry_term = np.fromiter(map(rank.__getitem__, names), np.int64, len(names))
    del names, rank
    # Each entry's postings are a run of the parts' pairs: sort the entries (stable: the
    # documents stay in order) and gather their runs, rather than sorting every posting.
    ends_of = [ends // 2 for _, ends, _ in parts]  # in pairs, from 0 in each part
    offsets = np.cumsum([0] + [len(flat) // 2 for _, _, flat in parts[:-1]])
    sizes = np.concatenate([np.diff(ends, prepend=0) for ends in ends_of])
    starts = np.concatenate([ends + offset for ends, offset in zip(ends_of, offsets, strict=True)])
    starts -= sizes
    del ends_of, offsets
    order = np.argsort(entry_term, kind="stable")
    sizes = sizes[order]
    run_starts = np.cumsum(sizes) - sizes
    gather = np.arange(int(sizes.sum())) + np.repeat(starts[order] - run_starts, sizes)
    del starts, run_starts
    pairs = np.concatenate([flat for _, _, flat in parts]).reshape(-1, 2)
    ids = pairs[gather, 0]
    freqs = pairs[gather, 1]
    del pairs, gather
    per_term = np.bincount(entry_term[order], weights=sizes, minlength=len(unique))
    bounds = np.cumsum(per_term.astype(np.int64)).tolist()
    del entry_term, order, sizes, per_term
    # As uint32 arrays (Python ints when indexed), converted a window at a time.
    low = high = 0
    window_ids = array("I")
    window_freqs = array("I")
    start = 0
    for term, end in zip(unique, bounds, strict=True):
        if end > start:  # a term whose documents were all dropped (keep) has none
            if end > high:
                low, high = start, max(end, start + LIST_WINDOW)
                window_ids = array("I", ids[low:high].tobytes())
                window_freqs = array("I", freqs[low:high].tobytes())
            yield term, window_ids[start - low : end - low], window_freqs[start - low : end - low]
        start = end


def _offsets_typecode(largest: int) -> str:
    """The array type Whoosh's GrowableArray("H") ends with after appending up to `largest`."""
    if largest < 1 << 16:
        return "H"
    if largest < 1 << 31:
        return "i"
    return "I" if largest < 1 << 32 else "q"


def _write_hash_tables(tindex: Any, buckets: list[tuple[array[int], array[int]]]) -> None:
    """HashWriter._write_hashes, the same bytes, from (hashes, positions) arrays per bucket;
    one bucket's table in memory at a time."""
    dbfile = tindex.dbfile
    pos = dbfile.tell()
    for hashes, positions in buckets:
        slots = 2 * len(hashes)
        tindex.directory.append((pos, slots))
        table = [0] * (2 * slots)  # hash, position per slot; position 0: empty (the header)
        for hashval, position in zip(hashes, positions, strict=True):
            slot = (hashval >> 8) % slots
            while table[2 * slot + 1]:  # linear probing, as Whoosh's
                slot = (slot + 1) % slots
            table[2 * slot] = hashval
            table[2 * slot + 1] = position
        dbfile.write(struct.pack("!" + "Iq" * slots, *table))
        pos += _POINTER_SIZE * slots


class _TermIndex:
    """Appends to Whoosh's ordered term hash file, with the positions it would log.

    Memory: the term bytes are written every FLUSH_BYTES, and each term keeps 20 bytes
    (its position, and its hash and position in its hash bucket) in arrays, not Python
    tuples: a merged segment's term index (short posting lists are inlined in it) would
    otherwise be held whole, about 5 KB a document.
    """

    def __init__(self, tindex: Any) -> None:
        self.tindex = tindex
        self.out: list[bytes] = []
        self.buffered = 0
        self.pos = tindex.dbfile.tell()
        self.offsets = array("q")  # the position of every key, in order
        self.buckets = [(array("I"), array("q")) for _ in range(256)]
        # Its hash tables are written in one go when the term file closes (same bytes).
        tindex._write_hashes = lambda: _write_hash_tables(tindex, self.buckets)

    def add(self, key: bytes, value: bytes) -> None:
        """One term's key and info (keys in increasing order, as OrderedHashWriter.add)."""
        pos = self.pos
        self.offsets.append(pos)
        h = int.from_bytes(md5(key, usedforsecurity=False).digest()[-4:], "big")
        hashes, positions = self.buckets[h & 255]
        hashes.append(h)
        positions.append(pos)
        self.out += (_LENGTHS.pack(len(key), len(value)), key, value)
        size = 8 + len(key) + len(value)
        self.pos = pos + size
        self.last = key
        self.buffered += size
        if self.buffered > FLUSH_BYTES:
            self.tindex.dbfile.write(b"".join(self.out))
            self.out = []
            self.buffered = 0

    def close(self) -> None:
        """Write what was added, and leave the hash writer as if it had added it."""
        self.tindex.dbfile.write(b"".join(self.out))
        self.out = []
        if self.offsets:
            self.tindex.index.array = array(_offsets_typecode(self.offsets[-1]), self.offsets)
            self.tindex.lastkey = self.last


class FastWriter(SegmentWriter):  # type: ignore[misc]
    """SegmentWriter with bulk posting lists and a durable commit (Whoosh never fsyncs)."""

    docnum: int  # the next document number (SegmentWriter's)
    # Merged segments' per-document values copied column by column (percopy); False: through
    # Whoosh's per-document calls (merging.write_per_doc), kept to compare against.
    column_copy: bool = True

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        # Checksums of the files of committed segments (carried into the new TOC), and a
        # generation above any TOC on disk, even an unreadable newer one.
        toc = ix.toc()
        self._known_files = toc.files
        self.generation: int = max(self.generation, ix.newest_on_disk() + 1)
        # fieldname -> the parts added to it, in document order: (terms joined by TERM_SEP,
        # where each term's pairs end, docnum/freq pairs). A chunk is kept as it came (no
        # per-term work when it is added); the flush ranks each field's terms once and
        # sorts its postings by term with numpy (_field_postings).
        self._post: dict[str, list[_Part]] = {}
        # Segments being merged in: (reader, old docnum -> new docnum or -1). Their posting
        # lists are streamed term by term at flush, never held whole (bounded memory).
        self._sources: list[tuple[Any, Any]] = []
        self._entries_buffered = 0
        self._pairs_buffered = 0

    def ram_bytes(self) -> int:
        """Estimated heap bytes of what this writer buffers (the RAM budget's measure)."""
        return (
            4 * self._pairs_buffered
            + ENTRY_BYTES * self._entries_buffered
            + DOC_BYTES * (self.docnum - self._merged_docs())
        )

    def _merged_docs(self) -> int:
        return sum(int((mapping >= 0).sum()) for _, mapping in self._sources)

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
                counts = dict(field_terms(fieldobj, value))
                if counts:
                    pairs = np.empty((len(counts), 2), dtype=np.uint32)
                    pairs[:, 0] = docnum
                    pairs[:, 1] = list(counts.values())
                    ends = np.arange(2, 2 * len(counts) + 1, 2, dtype=np.int64)
                    post.setdefault(name, []).append(
                        (TERM_SEP.join(counts), ends, pairs.reshape(-1))
                    )
                    self._entries_buffered += len(counts)
                    self._pairs_buffered += 2 * len(counts)
                    length = sum(counts.values())
            stored = value if fieldobj.stored else None
            pdw.add_field(name, fieldobj, stored, length if fieldobj.scorable else 0)
            column = fieldobj.column_type
            if column:
                pdw.add_column_value(name, column, fieldobj.to_column_value(value))
        pdw.finish_doc()
        self._added = True
        self.docnum += 1

    def add_chunk(self, chunk: Inverted, keep: Any = None) -> None:
        """Add a worker-inverted chunk's documents (those where keep is true; None: all)."""
        self._check_state()
        schema = self.schema
        pdw = self.perdocwriter
        base = self.docnum
        docnum = base
        # What W3PerDocWriter's start_doc/add_field/add_column_value/finish_doc do, with the
        # column writers looked up once per field rather than through four calls per value.
        colwriters = pdw._colwriters
        fieldlengths = pdw._fieldlengths
        for local, ops in enumerate(chunk.docs):
            if keep is not None and not keep[local]:
                continue
            pdw.start_doc(docnum)
            stored_fields = {}
            for name, stored, length, column in ops:
                if stored is not None:
                    stored_fields[name] = stored
                if length:
                    lenname = _LENFIELD.get(name) or _lenfield(name)
                    found = colwriters.get(lenname)
                    if found is None:
                        pdw._create_column(lenname, LENGTHS_COLUMN)
                        found = colwriters[lenname]
                    found.add(docnum, length_to_byte(length))
                    fieldlengths[name] += length
                if column is not None:
                    found = colwriters.get(name)
                    if found is None:
                        pdw._create_column(name, schema[name].column_type)
                        found = colwriters[name]
                    found.add(docnum, column)
            if stored_fields:
                colwriters["_stored"].add(docnum, stored_fields)
            pdw._indoc = False  # finish_doc
            docnum += 1
        if docnum == base:
            return
        self._added = True
        self.docnum = docnum
        mapping = None
        if keep is not None:
            kept = np.asarray(keep, dtype=bool)
            mapping = np.where(kept, np.cumsum(kept) - 1 + base, -1)
        post = self._post
        for name, fp in chunk.fields.items():
            pairs = np.frombuffer(fp.pairs, dtype=np.uint32).copy()
            ends = np.frombuffer(fp.ends, dtype=np.uint32).astype(np.int64)
            if mapping is None:
                pairs[0::2] += base
            else:
                docs = mapping[pairs[0::2]]
                live = docs >= 0
                counts = np.diff(ends, prepend=0) // 2
                owner = np.repeat(np.arange(len(ends)), counts)
                ends = 2 * np.cumsum(np.bincount(owner[live], minlength=len(ends)))
                pairs = np.stack((docs[live], pairs[1::2][live]), axis=1).astype(np.uint32)
            if not len(ends):
                continue
            post.setdefault(name, []).append((fp.terms, ends, pairs.reshape(-1)))
            self._entries_buffered += len(ends)
            self._pairs_buffered += pairs.size

    def write_per_doc(self, fieldnames: Any, reader: Any) -> Any:
        """Merging: a segment's per-document values copied (percopy, or merging's per
        document path)."""
        if self.column_copy:
            docmap = copy_per_doc(self, fieldnames, reader)
        else:
            docmap = write_per_doc(self, fieldnames, reader)
        trim_mapped()  # the pass read the whole segment's stored values through its map
        return docmap

    def add_postings_to_pool(self, reader: Any, startdoc: int, docmap: Any) -> None:
        """Merging: note a segment whose posting lists are streamed in at flush."""
        n = reader.doc_count_all()
        if docmap is None:
            mapping = np.arange(startdoc, startdoc + n, dtype=np.int64)
        else:
            mapping = np.full(n, -1, dtype=np.int64)
            for old, new in docmap.items():
                mapping[old] = new
        attach_arrays(reader)  # its long lists read from their arrays, if it has them
        self._sources.append((reader, mapping))

    def _flush_segment(self) -> None:
        """Write the per-document files, then every posting list in term order."""
        self.perdocwriter.close()
        fw = self.fieldwriter
        assert fw._tindex.hashfn is md5_hash and not fw._tindex.index
        try:
            self._write_postings(fw)
        finally:
            for reader, _ in self._sources:
                reader.close()
            self._sources = []
        self._post = {}
        self._entries_buffered = self._pairs_buffered = 0
        fw.close()

    def _write_postings(self, fw: Any) -> None:
        """Stream every term's postings (buffered, then each merged segment's) to the file."""
        postfile = fw._postfile
        tindex = _TermIndex(fw._tindex)
        fieldmap = fw._fieldmap
        out: list[bytes] = []  # posting bytes not yet written; pos: their end in the file
        pos = written = postfile.tell()
        pack_info = W3TermInfo._struct.pack
        arrays: ArrayWriter | None = None  # long lists again, as arrays (_arrays)
        for name, tbytes, found in self._merged_postings():
            fieldid = fieldmap.get(name)
            if fieldid is None:
                fieldid = fieldmap[name] = len(fieldmap)
            key = pack_ushort(fieldid) + tbytes
            if type(found) is bytes:  # a merged segment's inlined list, renumbered as it was
                tindex.add(key, found)
                continue
            ids, freqs = found
            count = len(ids)
            if count == 1:  # most terms (word pairs above all): the short path below, inline
                doc = ids[0]
                weight = float(freqs[0])
                head = pack_info(1, weight, 1, 0, 0, weight, doc, doc)
                tindex.add(key, head + dumps(((doc,), (weight,), ()), 2))
                continue
            if count <= INLINE_MAX:  # short lists live in the term index itself
                weights = tuple(map(float, freqs))
                head = pack_info(1, sum(weights), count, 0, 0, max(weights), ids[0], ids[-1])
                tindex.add(key, head + dumps((tuple(ids), weights, ()), 2))
                continue
            offset = pos
            out.append(WHOOSH3_HEADER_MAGIC)
            pos += len(WHOOSH3_HEADER_MAGIC)
            all_deltas = _block_deltas(ids) if count >= NUMPY_FROM else None
            for start in range(0, count, BLOCK):
                end = start + BLOCK
                bids = ids[start:end]
                if all_deltas is None:
                    deltas = tuple(map(sub, bids, [0, *bids[:-1]]))  # from zero in each block
                else:
                    deltas = tuple(all_deltas[start:end])
                bfreqs = freqs[start:end]
                top = max(bfreqs)
                if top == 1:
                    weights_: Any = None
                elif min(bfreqs) == top:
                    weights_ = float(top)
                else:
                    weights_ = tuple(map(float, bfreqs))
                data = dumps((deltas, weights_, None), 2)
                info = dumps((len(bids), bids[-1], float(top), 0, 0, 0), 2)
                size = len(info) + len(data)
                out += (pack_int(-size if end >= count else size), info, data)
                pos += 4 + size
            head = W3TermInfo._struct.pack(
                0, float(sum(freqs)), count, 0, 0, float(max(freqs)), ids[0], ids[-1]
            )
            tindex.add(key, head + pack_long(offset) + pack_int(pos - offset))
            if count >= ARRAYS_MIN:
                if arrays is None:
                    arrays = ArrayWriter(self.newsegment.create_file(self.storage, ARRAYS_EXT))
                arrays.add(offset, ids, freqs)
            if pos - written > FLUSH_BYTES:
                postfile.write(b"".join(out))
                out.clear()
                written = pos
        postfile.write(b"".join(out))
        tindex.close()
        if arrays is not None:
            arrays.close()

    def _own_postings(self) -> Any:
        """(fieldname, term bytes, (ids, freqs)) of this writer's own buffer, in key order."""
        for name in sorted(self._post):
            for term, ids, freqs in _field_postings(self._post[name]):
                yield name, term.encode("utf-8"), (ids, freqs)

    def _merged_postings(self) -> Any:
        """(fieldname, term bytes, postings) in Whoosh's key order: this writer's own
        postings, then each merged segment's, renumbered, as one sorted list per term: (ids,
        freqs), or a term index record to copy as it is (merging.join_postings).

        Own documents come first and merged segments follow in order, each renumbered
        monotonically, so concatenating keeps every list sorted. Only one term's lists are
        in memory at a time besides the writer's own buffer.
        """
        if not self._sources:  # nothing merged in: no heap merge needed
            yield from self._own_postings()
            return
        sources = [(reader._terms, mapping, shift_of(mapping)) for reader, mapping in self._sources]
        names = set(self._post)
        for terms, _, _ in sources:
            names.update(n for n in field_names(terms) if n in self.schema)
        for name in sorted(names):
            own = _field_postings(self._post.get(name, []))
            streams: list[Any] = [
                ((t.encode("utf-8"), -1, (ids, freqs)) for t, ids, freqs in own),
                # tagged binds each source's k now: a generator expression here would read
                # k when it runs, the last source's for every stream (wrong file, wrong ids).
                *(tagged(field_records(terms, name), k) for k, (terms, _, _) in enumerate(sources)),
            ]
            group: list[tuple[int, Any]] = []
            current: bytes | None = None
            # (term bytes, k, payload) tuples: ties on the term are broken by k, which differs
            # in every stream, so payloads are never compared.
            for seen, (tbytes, k, payload) in enumerate(heapq.merge(*streams), 1):
                if not seen & 4095:  # every 4,096 terms: a whole merge would map every source
                    trim_mapped()
                if tbytes != current:
                    if group and current is not None:
                        found = join_postings(group, sources)
                        if found is not None:
                            yield name, current, found
                    group, current = [], tbytes
                group.append((k, payload))
            if group and current is not None:
                found = join_postings(group, sources)
                if found is not None:
                    yield name, current, found

    def _commit_toc(self, segments: Any) -> None:
        """Publish the generation power-safely (see toc.commit: Lucene's order)."""
        from .toc import Toc, commit

        commit(self.storage.folder, Toc(self.generation, list(segments)), self._known_files)
