"""What an index run knows is indexed: the index as the run found it, plus its own changes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .model import PARSER_VERSION
from .schema import C_REC, F_RID, F_SHA, F_SRC, unpack_record


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
        """The record the old index holds for a source file (each is looked at once a run)."""
        fields = self._stored(F_SRC, key)
        return Entry(fields[F_RID], fields[F_SHA], self._version(key)) if fields else None

    def _version(self, key: str) -> int:
        """The parser version stored in the record of a source (0 when it has none)."""
        if self.searcher is None:
            return PARSER_VERSION
        docnum = self.searcher.document_number(**{F_SRC: key})
        if self.records is None:  # made once a run: whoosh derives its offsets in a loop
            self.records = self.searcher.reader().column_reader(C_REC)
        return int(unpack_record(self.records[docnum]).get("parser_version") or 0)

    @staticmethod
    def _in(digests: Any, text: str) -> bool:
        if not len(digests):
            return False
        d = digest(text)
        at = int(np.searchsorted(digests, d))
        return at < len(digests) and bytes(digests[at]) == d

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
            self.id_digests = np.union1d(self.id_digests, new_ids)
            self.sha_digests = np.union1d(self.sha_digests, new_shas)
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


def free_id(registry: Registry, wanted: str, sha: str) -> str:
    """The parser's id, or `<id>-<sha256[:8]>` when another letter holds it (deterministic)."""
    if not registry.id_taken(wanted):
        return wanted
    for width in (8, 16, 64):
        candidate = f"{wanted}-{sha[:width]}"
        if not registry.id_taken(candidate):
            return candidate
    raise RuntimeError(f"no free id for {wanted}")  # only if one sha256 were indexed twice
