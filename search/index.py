"""Writing the index: parallel parsing, one Whoosh document per decision, durable batches."""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import fcntl
import hashlib
import logging
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

import numpy as np
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import CLEAR

from .audit import Audit
from .engine.chunk import Inverted, invert
from .engine.docs import record_documents
from .engine.mergepolicy import merge_segments
from .engine.toc import (
    STAGING_PREFIX,
    DurableIndex,
    IndexDamaged,
    IndexVersionMismatch,
    clean_leftovers,
    generations,
    publish_rebuild,
)
from .engine.writer import FastWriter
from .model import PARSER_VERSION
from .parse.limit import DEFAULT_PARSE_TIMEOUT
from .schema import C_REC, F_LID, F_RID, F_SHA, F_SRC, unpack_record

log = logging.getLogger(__name__)

LOCK_FILE: Final = "imr-search.lock"
DEFAULT_BATCH: Final = 10_000  # letters per commit: a durable checkpoint and one segment
DEFAULT_LIMIT_MB: Final = 64  # Whoosh's own posting pool (FastWriter keeps postings itself)
CHUNK: Final = 128  # letters a worker parses and inverts per task (fewer for small runs)
INLINE_BELOW: Final = 24  # fewer files than this are parsed in-process (no pool start-up)
DEFAULT_RAM_BUDGET: Final = 1 << 30  # bytes an index run may hold (--ram-budget)
WRITER_SHARE: Final = 0.4  # of the budget, for the writer's buffer (the rest: the process
# itself, the chunks in flight, the searcher's maps and a merge's largest posting list)
WINDOW: Final = 3  # chunks in flight per parse worker


class IndexMissing(FileNotFoundError):
    """There is no index at the given path."""


class IndexLocked(RuntimeError):
    """Another process is writing to the index."""


@dataclass(slots=True)
class IndexSummary:
    """What one `index` run did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0  # letters whose files were gone (--prune)
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    audit: Audit = field(default_factory=Audit)  # parse quality of the letters parsed in it

    @property
    def processed(self) -> int:
        """Letters looked at (including failures)."""
        return self.added + self.updated + self.unchanged + self.failed

    @property
    def rate(self) -> float:
        """Letters per second."""
        return self.processed / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            + (f"{self.removed} removed (files gone), " if self.removed else "")
            + f"{self.failed} failed in {self.seconds:.1f} s ({self.rate:.0f} letters/s)"
        )


ProgressFn = Callable[[int, int, IndexSummary], None]  # (done, total, summary so far)
ErrorFn = Callable[[str], None]

# --- opening ----------------------------------------------------------------------------


def _has_index(path: Path) -> bool:
    """Whether the folder holds an index of ours (a TOC file, readable or not)."""
    return path.is_dir() and bool(generations(path))


def create_or_open_index(path: str | Path, *, fresh: bool = False) -> DurableIndex:
    """Open the index at path (its newest readable generation), creating the folder and an
    empty index when there is none; fresh (a --rebuild): a new empty generation when the
    index cannot be read at all, or has another schema."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    if _has_index(folder):
        try:
            return DurableIndex(folder)
        except (IndexDamaged, IndexVersionMismatch):
            if not fresh:
                raise
            log.warning("index %s cannot be read; --rebuild starts a new generation", folder)
    return DurableIndex.create(folder)


def open_index(path: str | Path) -> DurableIndex:
    """Open an existing index read-only; raises IndexMissing, IndexDamaged (no generation
    readable: each newer unreadable one is skipped with a warning), IndexVersionMismatch."""
    folder = Path(path)
    if not _has_index(folder):
        raise IndexMissing(
            f"no index at {folder}: build one with `imr-search index PATH... --index {folder}`"
        )
    return DurableIndex(folder, readonly=True)


# --- locking ----------------------------------------------------------------------------


@contextlib.contextmanager
def _run_lock(folder: Path) -> Iterator[None]:
    """Hold the index's writer lock for a whole run (the OS drops it if we die)."""
    handle: IO[str] = open(folder / LOCK_FILE, "a+")  # noqa: SIM115 (held for the run)
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexLocked(
                f"index {folder} is locked: another `imr-search index` is writing to it; "
                "try again when it has finished"
            ) from None
        yield
    finally:
        handle.close()


# --- workers ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Task:
    path: str
    key: str  # absolute path: the registry key of the source
    known_sha: str | None  # the sha256 indexed for this source, if any
    parse_timeout: float | None = None  # CPU seconds the parse may take (None: unlimited)
    strict: bool = False  # a letter with no decision found fails


@dataclass(frozen=True, slots=True)
class _Prepared:
    key: str
    path: str
    id: str
    sha256: str
    docs: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class _Parsed:
    # Only what the writer needs: unpickling a whole record costs the (busy) writer process.
    key: str
    path: str
    id: str
    sha256: str
    start: int  # its documents in the chunk: local numbers start..stop-1
    stop: int


@dataclass(frozen=True, slots=True)
class _Unchanged:
    key: str


@dataclass(frozen=True, slots=True)
class _Failed:
    message: str


_Result = _Prepared | _Unchanged | _Failed


@dataclass(frozen=True, slots=True)
class _Chunk:
    items: list[_Parsed | _Unchanged | _Failed]  # in task order
    inverted: Inverted  # the documents of every _Parsed item, in order
    audit: Audit  # parse quality of the letters parsed in the chunk


def _prepare(task: _Task, audit: Audit) -> _Result:
    """Load, check, parse and analyze one file (runs in a worker process); count its parse
    quality in `audit`."""
    from .parse.limit import parse_limited
    from .parse.load import LoadError, load_file

    try:
        loaded = load_file(task.path)
        if loaded.sha256 == task.known_sha:
            return _Unchanged(task.key)
        record = parse_limited(loaded, task.parse_timeout)
        audit.add(record)
        if task.strict and not record.decisions:
            return _Failed(f"{task.path}: no decisions found (--strict)")
        docs = record_documents(record, task.key)
        return _Prepared(task.key, task.path, record.id, record.sha256, docs)
    except LoadError as exc:
        return _Failed(str(exc))
    except Exception as exc:  # one bad letter must never stop the batch
        return _Failed(f"{task.path}: could not index: {type(exc).__name__}: {exc}")


def _prepare_chunk(tasks: list[_Task]) -> _Chunk:
    """Prepare a chunk of files and invert their documents (runs in a worker process)."""
    items: list[_Parsed | _Unchanged | _Failed] = []
    docs: list[dict[str, Any]] = []
    audit = Audit()
    for task in tasks:
        result = _prepare(task, audit)
        if isinstance(result, _Prepared):
            start = len(docs)
            docs += result.docs
            items.append(
                _Parsed(result.key, result.path, result.id, result.sha256, start, len(docs))
            )
        else:
            items.append(result)
    return _Chunk(items, invert(docs), audit)


# --- the registry of what is indexed ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    id: str
    sha: str
    version: int = PARSER_VERSION  # the parser version of the stored record

    @property
    def current(self) -> bool:
        """Parsed by this parser: unchanged text needs no new parse."""
        return self.version == PARSER_VERSION


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class _Registry:
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

    def by_source(self, key: str) -> _Entry | None:
        """The record the old index holds for a source file (each is looked at once a run)."""
        fields = self._stored(F_SRC, key)
        return _Entry(fields[F_RID], fields[F_SHA], self._version(key)) if fields else None

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
        d = _digest(text)
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

    def remove(self, key: str, entry: _Entry) -> None:
        self.removed_ids.add(entry.id)
        self.removed_shas.add(entry.sha)

    def committed(self) -> None:
        """The open batch committed: keep its additions as digests only."""
        if self.ids:
            new_ids = np.array([_digest(i) for i in self.ids], dtype="S16")
            new_shas = np.array([_digest(s) for s in self.shas], dtype="S16")
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


def _free_id(registry: _Registry, wanted: str, sha: str) -> str:
    """The parser's id, or `<id>-<sha256[:8]>` when another letter holds it (deterministic)."""
    if not registry.id_taken(wanted):
        return wanted
    for width in (8, 16, 64):
        candidate = f"{wanted}-{sha[:width]}"
        if not registry.id_taken(candidate):
            return candidate
    raise RuntimeError(f"no free id for {wanted}")  # only if one sha256 were indexed twice


# --- the run ----------------------------------------------------------------------------


def _chunked(tasks: Iterator[_Task], size: int) -> Iterator[list[_Task]]:
    """Tasks in lists of `size` (made lazily: only a window of them exists at a time)."""
    chunk: list[_Task] = []
    for task in tasks:
        chunk.append(task)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _results(tasks: Iterator[_Task], total: int, workers: int) -> Iterator[_Chunk]:
    """Prepared and inverted chunks of letters in task order, parsed on `workers` processes.

    At most WINDOW chunks per worker are in flight: results never pile up in memory when
    the writer is slower than the parsers (Pool.imap would queue every task at once).
    """
    size = max(1, min(CHUNK, -(-total // (4 * max(1, workers)))))
    chunks = _chunked(tasks, size)
    if workers <= 1 or total < INLINE_BELOW:
        yield from map(_prepare_chunk, chunks)
        return
    ctx = multiprocessing.get_context("spawn")  # no fork of a process holding index files
    with ctx.Pool(workers) as pool:
        window: collections.deque[Any] = collections.deque()
        for chunk in chunks:
            window.append(pool.apply_async(_prepare_chunk, (chunk,)))
            if len(window) >= WINDOW * workers:
                yield window.popleft().get()
        while window:
            yield window.popleft().get()


class _Batch:
    """The registry of what is indexed and, once something changes, the open writer."""

    def __init__(self, ix: DurableIndex, limitmb: int, clear: bool) -> None:
        self.ix = ix
        self.limitmb = limitmb
        self.clear = clear  # the first commit of a --rebuild drops every old segment
        self._writer: FastWriter | None = None
        # A searcher, not a writer, until something changes: a run that changes nothing
        # writes nothing at all. We hold the run lock, so the two see the same commit.
        # In a --rebuild, everything indexed is added by this run: no searcher at all.
        self.registry = _Registry(None if clear else ix.searcher())
        self.known: dict[str, _Entry] = {}  # sources in flight that the old index holds
        self.pending = 0

    @property
    def writer(self) -> FastWriter:
        """The writer of this batch (opened on first use)."""
        if self._writer is None:
            self._writer = FastWriter(self.ix, limitmb=self.limitmb)
        return self._writer

    def ram_bytes(self) -> int:
        """Estimated heap bytes the open writer buffers."""
        return 0 if self._writer is None else self._writer.ram_bytes()

    def commit(self, final: bool) -> None:
        if self.clear:
            self.writer.commit(mergetype=CLEAR)
            self.clear = False
        elif self._writer is not None:
            self._writer.commit(mergetype=merge_segments)
        self._writer = None
        self.registry.committed()
        self.pending = 0
        if final:
            self.registry.close()

    def cancel(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None
        self.registry.close()


def _count_files(paths: list[str | os.PathLike[str]]) -> int:
    """How many files (and unreadable paths) a run will look at: a walk, nothing kept."""
    from .parse.load import iter_files

    return sum(1 for _ in iter_files(paths))


def index_paths(
    index_dir: str | Path,
    paths: Iterable[str | os.PathLike[str]],
    *,
    rebuild: bool = False,
    workers: int | None = None,
    progress: ProgressFn | None = None,
    on_error: ErrorFn | None = None,
    batch_size: int = DEFAULT_BATCH,
    limitmb: int = DEFAULT_LIMIT_MB,
    ram_budget: int = DEFAULT_RAM_BUDGET,
    parse_timeout: float | None = DEFAULT_PARSE_TIMEOUT,
    prune: bool = False,
    on_removed: ErrorFn | None = None,
    strict: bool = False,
) -> IndexSummary:
    """Index letter files and folders into index_dir; incremental, idempotent, crash-safe.

    Memory is bounded by ram_budget, not by the number of letters: files are walked lazily,
    a window of chunks is parsed ahead, and the writer commits a segment when its buffer
    reaches its share of the budget (merges stream posting lists term by term).
    """
    from .parse.load import LoadError, iter_files

    started = time.monotonic()
    folder = Path(index_dir)
    folder.mkdir(parents=True, exist_ok=True)
    summary = IndexSummary()
    workers = workers or min(2, os.cpu_count() or 1)
    roots = list(paths)
    writer_budget = int(ram_budget * WRITER_SHARE)

    def fail(message: str) -> None:
        summary.failed += 1
        summary.errors.append(message)
        if on_error is not None:
            on_error(message)

    with _run_lock(folder):
        if _has_index(folder):
            clean_leftovers(folder)  # of killed runs: we hold the lock, nobody writes them
        staging = folder / f"{STAGING_PREFIX}{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        # A --rebuild builds a new index beside the old one, which is served meanwhile and
        # switched out in one commit when the new one is complete (publish_rebuild).
        ix = DurableIndex.create(staging) if rebuild else create_or_open_index(folder)
        batch = _Batch(ix, limitmb, clear=rebuild)
        try:
            if prune:  # first, so a moved file is added again from its new path
                _prune(batch, summary, on_removed)
            total = _count_files(roots)
            # The same file named twice (overlapping arguments) is looked at once; one
            # folder walk never repeats a file, so one argument needs no memory of them.
            seen: set[bytes] | None = set() if len(roots) > 1 else None

            def tasks() -> Iterator[_Task]:
                for item in iter_files(roots):
                    if isinstance(item, LoadError):
                        fail(str(item))
                        continue
                    key = os.path.abspath(item)
                    if seen is not None:
                        digest = _digest(key)
                        if digest in seen:
                            continue
                        seen.add(digest)
                    known = batch.registry.by_source(key)
                    if known is not None:
                        batch.known[key] = known
                    known_sha = known.sha if known and known.current else None
                    yield _Task(str(item), key, known_sha, parse_timeout, strict)

            done = 0
            for chunk in _results(tasks(), total, workers):
                summary.audit.merge(chunk.audit)
                keep: list[bool] = []  # per document of the chunk: added as inverted
                renamed: list[tuple[_Parsed, str]] = []
                for got in chunk.items:
                    if isinstance(got, _Failed):
                        fail(got.message)
                    elif isinstance(got, _Unchanged):
                        batch.known.pop(got.key, None)
                        summary.unchanged += 1
                    else:
                        lid = _decide(batch, got, summary)
                        keep += [lid == got.id] * (got.stop - got.start)
                        if lid is not None and lid != got.id:
                            renamed.append((got, lid))
                if any(keep):
                    batch.writer.add_chunk(chunk.inverted, None if all(keep) else keep)
                for parsed, lid in renamed:  # after the chunk: docnums stay in order
                    _add_renamed(batch, parsed, lid)
                done = summary.processed
                if progress is not None:
                    progress(done, max(total, done), summary)
                if batch.pending >= batch_size or batch.ram_bytes() >= writer_budget:
                    batch.commit(final=False)
            batch.commit(final=True)
            if rebuild:
                publish_rebuild(folder, staging)
        except BaseException:
            batch.cancel()
            if rebuild:
                shutil.rmtree(staging, ignore_errors=True)
            raise
    summary.seconds = time.monotonic() - started
    return summary


def _prune(batch: _Batch, summary: IndexSummary, on_removed: ErrorFn | None) -> None:
    """Delete the records of letters whose source files no longer exist."""
    registry = batch.registry
    for key in registry.sources():
        if os.path.exists(key):
            continue
        entry = registry.by_source(key)
        if entry is None:  # already deleted in the old index
            continue
        batch.writer.delete_by_term(F_LID, entry.id)
        registry.remove(key, entry)
        batch.pending += 1
        summary.removed += 1
        if on_removed is not None:
            on_removed(f"{key}: file gone; removed {entry.id} from the index")


def _decide(batch: _Batch, item: _Parsed, summary: IndexSummary) -> str | None:
    """Register one parsed letter; the id to add it under, or None when it is not added."""
    registry = batch.registry
    sha = item.sha256
    old = batch.known.pop(item.key, None)
    if old is not None and old.sha == sha and old.current:
        summary.unchanged += 1
        return None
    if old is not None:  # the file changed: its old record goes
        batch.writer.delete_by_term(F_LID, old.id)
        registry.remove(item.key, old)
        batch.pending += 1
    if registry.sha_taken(sha):  # the same text is already indexed
        if old is not None:
            summary.updated += 1
        else:
            summary.unchanged += 1
        return None
    lid = _free_id(registry, item.id, sha)
    registry.add(item.key, lid, sha)
    batch.pending += 1
    if old is not None:
        summary.updated += 1
    else:
        summary.added += 1
    return lid


def _add_renamed(batch: _Batch, item: _Parsed, lid: str) -> None:
    """Rare: parse a letter again here and add it under the free id it was given."""
    from .parse import parse_loaded
    from .parse.load import load_file

    record = dataclasses.replace(parse_loaded(load_file(item.path)), id=lid)
    if record.sha256 != item.sha256:  # the file changed meanwhile: record what is stored
        batch.registry.add(item.key, lid, record.sha256)
    for doc in record_documents(record, item.key):
        batch.writer.add_document(**doc)


def storage_size(index_dir: str | Path) -> int:
    """Bytes of the index's files."""
    storage = FileStorage(str(index_dir))
    return sum(storage.file_length(name) for name in storage.list() if not name.endswith(".tmp"))
