"""What an index run knows is indexed: the index as the run found it, plus its own changes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .engine._codec import trim_mapped
from .model import PARSER_VERSION
from .schema import C_REC, F_RID, F_SHA, F_SRC, unpack_record

_MINID_AT = 15  # a W3TermInfo ("!BfIBBfII"): the first document's number at byte 15


@dataclass(frozen=True, slots=True)
class Entry:
    """What the index holds for a source file: its id, sha256 and parser version."""

    id: str
    sha: str
    version: int = PARSER_VERSION  # the parser version of the stored record

    @property
    def current(self) -> bool:
        """Parsed by this parser: unchanged text needs no new parse."""
        return self.version == PARSER_VERSION


def digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def union_sorted(digests: Any, new: Any) -> Any:
    """`np.union1d(digests, new)` for sorted, distinct `digests`: the new ones inserted in
    place (union1d sorts both again with numpy 2.4's hashing unique: 1.9 s at 1.6M, this 0.04)."""
    new = np.unique(new)
    at = np.searchsorted(digests, new)
    known = at < len(digests)
    known[known] = digests[at[known]] == new[known]
    new = new[~known]
    return np.insert(digests, np.searchsorted(digests, new), new)


def find(digests: Any, d: bytes) -> int | None:
    """The position of digest d in a sorted "S16" array, or None. (numpy reads an S16 value
    without its trailing zero bytes: one digest in 256 ends with one.)"""
    at = int(np.searchsorted(digests, d))
    if at < len(digests) and bytes(digests[at]) == d.rstrip(b"\x00"):
        return at
    return None


class Registry:
    """Which ids and sha256s are indexed: the index as the run found it, plus the run's changes.

    The index is the only record of what is indexed. One searcher over the index as the run
    found it is opened once (never reopened after a commit: that cost grows with the index);
    the run's own additions are kept exactly until their batch commits, then as sorted
    128-bit digests (32 bytes a letter), so a run of any size holds little memory.
    """

    def __init__(self, searcher: Any | None) -> None:
        self.searcher = searcher
        self.records: Any | None = None  # the record column, read for parser versions
        self.sources_table: tuple[Any, Any] | None = None  # made on the first by_source
        self.lookups = 0
        self.ids: dict[str, str] = {}  # the open batch's additions: id -> sha
        self.shas: set[str] = set()
        self.id_digests = np.zeros(0, dtype="S16")  # committed additions of this run
        self.sha_digests = np.zeros(0, dtype="S16")
        self.removed_ids: set[str] = set()  # records of the old index this run removed
        self.removed_shas: set[str] = set()

    def _stored(self, fieldname: str, value: str) -> dict[str, Any] | None:
        if self.searcher is None:
            return None
        docnum = self.searcher.document_number(**{fieldname: value})
        return None if docnum is None else dict(self.searcher.stored_fields(docnum))

    def by_source(self, key: str) -> Entry | None:
        """The record the old index holds for a source file (each is looked at once a run):
        its document found by the key's digest in source_table, no query per letter."""
        if self.searcher is None:
            return None
        if self.sources_table is None:
            self.sources_table = source_table(self.searcher.reader())
        digests, docnums = self.sources_table
        self.lookups += 1
        if not self.lookups & 4095:  # a resumed run reads every old letter's record: unmap
            trim_mapped()
        at = find(digests, digest(key))
        if at is None:
            return None
        docnum = int(docnums[at])
        fields = self.searcher.stored_fields(docnum)
        if self.records is None:  # made once a run: whoosh derives its offsets in a loop
            self.records = self.searcher.reader().column_reader(C_REC)
        version = int(unpack_record(self.records[docnum]).get("parser_version") or 0)
        return Entry(fields[F_RID], fields[F_SHA], version)

    @staticmethod
    def _in(digests: Any, text: str) -> bool:
        return bool(len(digests)) and find(digests, digest(text)) is not None

    def id_taken(self, lid: str) -> bool:
        if lid in self.ids or self._in(self.id_digests, lid):
            return True
        return lid not in self.removed_ids and self._stored(F_RID, lid) is not None

    def sha_taken(self, sha: str) -> bool:
        if sha in self.shas or self._in(self.sha_digests, sha):
            return True
        return sha not in self.removed_shas and self._stored(F_SHA, sha) is not None

    def add(self, key: str, lid: str, sha: str) -> None:
        self.ids[lid] = sha
        self.shas.add(sha)

    def remove(self, key: str, entry: Entry) -> None:
        self.removed_ids.add(entry.id)
        self.removed_shas.add(entry.sha)

    def committed(self) -> None:
        """The open batch committed: keep its additions as digests only."""
        if self.ids:
            new_ids = np.array([digest(i) for i in self.ids], dtype="S16")
            new_shas = np.array([digest(s) for s in self.shas], dtype="S16")
            self.id_digests = union_sorted(self.id_digests, new_ids)
            self.sha_digests = union_sorted(self.sha_digests, new_shas)
        self.ids = {}
        self.shas = set()

    def sources(self) -> Iterator[str]:
        """Every source file the old index holds a record of (streamed from its terms)."""
        if self.searcher is None:
            return
        for term in self.searcher.lexicon(F_SRC):
            yield term.decode("utf-8") if isinstance(term, bytes) else term

    def close(self) -> None:
        if self.searcher is not None:
            self.searcher.close()
            self.searcher = None


def source_table(reader: Any) -> tuple[Any, Any]:
    """Every source path of the index, as (sorted 128-bit digests, the live document of
    each): read from each segment's term index with numpy (a source's term is inlined, its
    document at a fixed place of the term info), one digest a source; 24 bytes a letter.
    A source whose term names more than one document (rare: deleted ones not merged away
    yet) is looked up as Whoosh does."""
    from .engine._codec import deleted_docs, term_table

    parts: list[tuple[Any, Any]] = []
    for leaf, offset in reader.leaf_readers():
        keys: list[bytes] = []  # (one segment's at a time: its digests become an array)
        docs: list[int] = []
        deleted = set(deleted_docs(leaf).tolist())

        def live_doc(term: str) -> int | None:
            """Whoosh's way: the term's first live document."""
            ids = leaf.postings(F_SRC, term).all_ids()  # noqa: B023 (called in this loop)
            return next((d for d in ids if d not in deleted), None)  # noqa: B023

        raw, starts, lengths, dfs = term_table(leaf, F_SRC)
        if not len(starts):  # no such field, or a term index not mapped
            for text in leaf.lexicon(F_SRC) if leaf.doc_count_all() else ():
                term = text.decode("utf-8") if isinstance(text, bytes) else text
                found = live_doc(term)
                if found is not None:
                    keys.append(digest(term))
                    docs.append(offset + found)
            parts.append((np.array(keys, dtype="S16"), np.array(docs, dtype=np.int64)))
            continue
        at = starts + lengths + _MINID_AT  # each term's W3TermInfo follows its key
        minid = (
            (raw[at].astype(np.int64) << 24)
            | (raw[at + 1].astype(np.int64) << 16)
            | (raw[at + 2].astype(np.int64) << 8)
            | raw[at + 3]
        )
        buf = raw.data
        for start, length, df, doc in zip(
            starts.tolist(), lengths.tolist(), dfs.tolist(), minid.tolist(), strict=True
        ):
            term = str(buf[start : start + length], "utf-8")
            found = doc if df == 1 and doc not in deleted else live_doc(term) if df > 1 else None
            if found is not None:
                keys.append(digest(term))
                docs.append(offset + found)
        parts.append((np.array(keys, dtype="S16"), np.array(docs, dtype=np.int64)))
    digests = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, dtype="S16")
    numbers = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    order = np.argsort(digests, kind="stable")
    return digests[order], numbers[order]


def free_id(registry: Registry, wanted: str, sha: str) -> str:
    """The parser's id, or `<id>-<sha256[:8]>` when another letter holds it (deterministic)."""
    if not registry.id_taken(wanted):
        return wanted
    for width in (8, 16, 64):
        candidate = f"{wanted}-{sha[:width]}"
        if not registry.id_taken(candidate):
            return candidate
    raise RuntimeError(f"no free id for {wanted}")  # only if one sha256 were indexed twice
