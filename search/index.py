"""Writing the index: an index run (parse workers in index_pool, what is indexed in
index_registry), one Whoosh document per decision, durable batches."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

from whoosh.filedb.filestore import FileStorage
from whoosh.writing import CLEAR

from .audit import Audit
from .engine.background import MergeScheduler
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
from .index_pool import Failed, Parsed, Task, Unchanged, count_files, results
from .index_registry import Entry, Registry, digest, free_id
from .parse.limit import DEFAULT_PARSE_TIMEOUT
from .schema import F_LID

log = logging.getLogger(__name__)

LOCK_FILE: Final = "imr-search.lock"
DEFAULT_BATCH: Final = 10_000  # letters per commit: a durable checkpoint and one segment
DEFAULT_LIMIT_MB: Final = 64  # Whoosh's own posting pool (FastWriter keeps postings itself)
DEFAULT_RAM_BUDGET: Final = 1 << 30  # bytes an index run may hold (--ram-budget)
WRITER_SHARE: Final = 0.4  # of the budget, for the writer's buffer (the rest: the process
# itself, the chunks in flight, the searcher's maps and a merge's largest posting list)


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
    segments: int = 0  # the index's segments after the run
    merge_cpu: float = 0.0  # CPU seconds of the run's background merges (in their process)

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


def _missing(folder: Path) -> IndexMissing:
    """The error for a folder without an index, naming the command that builds one."""
    return IndexMissing(
        f"no index at {folder}: build one with `imr-search index PATH... --index {folder}`"
    )


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
        raise _missing(folder)
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


# --- the run ----------------------------------------------------------------------------


class _Batch:
    """The registry of what is indexed and, once something changes, the open writer."""

    def __init__(
        self, ix: DurableIndex, limitmb: int, clear: bool, background: bool = True
    ) -> None:
        self.ix = ix
        self.limitmb = limitmb
        self.clear = clear  # the first commit of a --rebuild drops every old segment
        self._writer: FastWriter | None = None
        # Merges between commits run in a child process (the last commit merges inline).
        self.merges = MergeScheduler(ix.folder) if background else None
        # A searcher, not a writer, until something changes: a run that changes nothing
        # writes nothing at all. We hold the run lock, so the two see the same commit.
        # In a --rebuild, everything indexed is added by this run: no searcher at all.
        # An empty index has nothing to look up: no searcher (a lookup a letter is not free).
        searcher = None if clear else ix.searcher()
        if searcher is not None and searcher.doc_count_all() == 0:
            searcher.close()
            searcher = None
        self.registry = Registry(searcher)
        self.known: dict[str, Entry] = {}  # sources in flight that the old index holds
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
        merges = self.merges
        if self.clear:
            self.writer.commit(mergetype=CLEAR)
            self.clear = False
        elif merges is None:
            if self._writer is not None:
                self._writer.commit(mergetype=merge_segments)
        elif final and (self._writer is not None or merges.running):
            # The last commit waits for a running merge, publishes it, and merges inline
            # what the policy picks with the new documents (a one-commit run: as before).
            self.writer.commit(
                mergetype=lambda w, segs: merge_segments(w, merges.publish(w, segs, wait=True))
            )
        elif self._writer is not None:  # (a finished merge is published)
            self._writer.commit(mergetype=merges.publish)
        self._writer = None
        self.registry.committed()
        self.pending = 0
        if merges is None:
            if final:
                self.registry.close()
            return
        if not final:
            merges.start(self.ix.toc().segments)
            return
        # The run ends with the merges the policy still picks done (as Lucene's close()
        # waits for merges): an index within its segment budget, whatever the timing.
        while merges.start(self.ix.toc().segments):
            self.writer.commit(mergetype=lambda w, segs: merges.publish(w, segs, wait=True))
            self._writer = None
        merges.close()
        self.registry.close()

    def cancel(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None
        if self.merges is not None:
            self.merges.close(cancel=True)
        self.registry.close()


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
            total = count_files(roots)
            # The same file named twice (overlapping arguments) is looked at once; one
            # folder walk never repeats a file, so one argument needs no memory of them.
            seen: set[bytes] | None = set() if len(roots) > 1 else None

            def tasks() -> Iterator[Task]:
                for item in iter_files(roots):
                    if isinstance(item, LoadError):
                        fail(str(item))
                        continue
                    key = os.path.abspath(item)
                    if seen is not None:
                        key_digest = digest(key)
                        if key_digest in seen:
                            continue
                        seen.add(key_digest)
                    known = batch.registry.by_source(key)
                    if known is not None:
                        batch.known[key] = known
                    known_sha = known.sha if known and known.current else None
                    yield Task(str(item), key, known_sha, parse_timeout, strict)

            done = 0
            for chunk in results(tasks(), total, workers):
                summary.audit.merge(chunk.audit)
                keep: list[bool] = []  # per document of the chunk: added as inverted
                renamed: list[tuple[Parsed, str]] = []
                for got in chunk.items:
                    if isinstance(got, Failed):
                        fail(got.message)
                    elif isinstance(got, Unchanged):
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
            summary.segments = len(ix.toc().segments)
            summary.merge_cpu = batch.merges.cpu if batch.merges is not None else 0.0
            if rebuild:
                publish_rebuild(folder, staging)
        except BaseException:
            batch.cancel()
            if rebuild:
                shutil.rmtree(staging, ignore_errors=True)
            raise
    summary.seconds = time.monotonic() - started
    return summary


@dataclass(frozen=True, slots=True)
class CompactSummary:
    """What one `compact` run did."""

    before: int  # segments
    after: int
    merges: int
    seconds: float
    failed: bool = False  # a merge failed (logged); the index is as its last commit left it

    def __str__(self) -> str:
        return (
            f"{self.before} segments -> {self.after} in {self.merges} merges, "
            f"{self.seconds:.1f} s" + (" (stopped: a merge failed)" if self.failed else "")
        )


def compact_index(
    index_dir: str | Path, on_merge: Callable[[int, int], None] | None = None
) -> CompactSummary:
    """Merge an index's segments into as few as the merge cap allows (after a bulk load: a
    search pays a fixed cost per segment). One merge at a time in a child process, each
    published by its own durable commit: memory stays bounded, a kill loses only the merge
    in progress, and servers pick each commit up. on_merge(merges done, segments now)."""
    started = time.monotonic()
    folder = Path(index_dir)
    if not _has_index(folder):
        raise _missing(folder)
    with _run_lock(folder):
        clean_leftovers(folder)
        ix = DurableIndex(folder)
        before = now = len(ix.toc().segments)
        merges = MergeScheduler(ix.folder)
        done, failed = 0, False
        try:
            while merges.start(ix.toc().segments, compact=True):
                FastWriter(ix).commit(mergetype=lambda w, segs: merges.publish(w, segs, wait=True))
                count = len(ix.toc().segments)
                if count >= now:  # publish kept the sources: the merge failed
                    failed = True
                    break
                done, now = done + 1, count
                if on_merge is not None:
                    on_merge(done, now)
        finally:
            merges.close()
    return CompactSummary(before, now, done, time.monotonic() - started, failed)


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


def _decide(batch: _Batch, item: Parsed, summary: IndexSummary) -> str | None:
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
    lid = free_id(registry, item.id, sha)
    registry.add(item.key, lid, sha)
    batch.pending += 1
    if old is not None:
        summary.updated += 1
    else:
        summary.added += 1
    return lid


def _add_renamed(batch: _Batch, item: Parsed, lid: str) -> None:
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
