"""Writing the index: parallel parsing, one Whoosh document per decision, durable batches."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from whoosh import index as windex
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import CLEAR

from .engine.chunk import Inverted, invert
from .engine.docs import record_documents
from .engine.writer import INDEX_NAME, FastWriter, merge_tiered
from .parse.limit import DEFAULT_PARSE_TIMEOUT
from .schema import F_LID, F_RID, F_SHA, F_SRC, SCHEMA

LOCK_FILE: Final = "imr-search.lock"
DEFAULT_BATCH: Final = 10_000  # letters per commit: a durable checkpoint and one segment
DEFAULT_LIMIT_MB: Final = 64  # Whoosh's own posting pool (FastWriter keeps postings itself)
CHUNK: Final = 128  # letters a worker parses and inverts per task (fewer for small runs)
INLINE_BELOW: Final = 24  # fewer files than this are parsed in-process (no pool start-up)


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
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

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
            f"{self.failed} failed in {self.seconds:.1f} s ({self.rate:.0f} letters/s)"
        )


ProgressFn = Callable[[int, int, IndexSummary], None]  # (done, total, summary so far)
ErrorFn = Callable[[str], None]

# --- opening ----------------------------------------------------------------------------


def _has_index(path: Path) -> bool:
    """Whether the folder holds a Whoosh index of ours."""
    return path.is_dir() and windex.exists_in(str(path), indexname=INDEX_NAME)


def create_or_open_index(path: str | Path) -> windex.FileIndex:
    """Open the index at path, creating the folder and an empty index when there is none."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    if _has_index(folder):
        return windex.open_dir(str(folder), indexname=INDEX_NAME)
    return windex.create_in(str(folder), SCHEMA, indexname=INDEX_NAME)


def open_index(path: str | Path) -> windex.FileIndex:
    """Open an existing index read-only; raises IndexMissing."""
    folder = Path(path)
    if not _has_index(folder):
        raise IndexMissing(
            f"no index at {folder}: build one with `imr-search index PATH... --index {folder}`"
        )
    return windex.open_dir(str(folder), indexname=INDEX_NAME, readonly=True)


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


def _prepare(task: _Task) -> _Result:
    """Load, check, parse and analyze one file (runs in a worker process)."""
    from .parse.limit import parse_limited
    from .parse.load import LoadError, load_file

    try:
        loaded = load_file(task.path)
        if loaded.sha256 == task.known_sha:
            return _Unchanged(task.key)
        record = parse_limited(loaded, task.parse_timeout)
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
    for task in tasks:
        result = _prepare(task)
        if isinstance(result, _Prepared):
            start = len(docs)
            docs += result.docs
            items.append(
                _Parsed(result.key, result.path, result.id, result.sha256, start, len(docs))
            )
        else:
            items.append(result)
    return _Chunk(items, invert(docs))


# --- the registry of what is indexed ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    id: str
    sha: str


class _Registry:
    """source -> (id, sha), id -> sha and sha -> id, read from the index's own terms.

    The index is the only record of what is indexed, so it is always consistent with the
    last commit; changes of the running batch live in the overlay until they commit.
    """

    def __init__(self, searcher: Any | None) -> None:
        self.searcher = searcher
        self.sources: dict[str, _Entry | None] = {}
        self.ids: dict[str, str | None] = {}
        self.shas: dict[str, str | None] = {}

    def _stored(self, fieldname: str, value: str) -> dict[str, Any] | None:
        if self.searcher is None:
            return None
        docnum = self.searcher.document_number(**{fieldname: value})
        return None if docnum is None else dict(self.searcher.stored_fields(docnum))

    def by_source(self, key: str) -> _Entry | None:
        if key not in self.sources:
            fields = self._stored(F_SRC, key)
            self.sources[key] = _Entry(fields[F_RID], fields[F_SHA]) if fields else None
        return self.sources[key]

    def sha_of_id(self, lid: str) -> str | None:
        if lid not in self.ids:
            fields = self._stored(F_RID, lid)
            self.ids[lid] = fields[F_SHA] if fields else None
        return self.ids[lid]

    def id_of_sha(self, sha: str) -> str | None:
        if sha not in self.shas:
            fields = self._stored(F_SHA, sha)
            self.shas[sha] = fields[F_RID] if fields else None
        return self.shas[sha]

    def add(self, key: str, lid: str, sha: str) -> None:
        self.sources[key] = _Entry(lid, sha)
        self.ids[lid] = sha
        self.shas[sha] = lid

    def remove(self, key: str, entry: _Entry) -> None:
        self.sources[key] = None
        self.ids[entry.id] = None
        self.shas[entry.sha] = None


def _free_id(registry: _Registry, wanted: str, sha: str) -> str:
    """The parser's id, or `<id>-<sha256[:8]>` when another letter holds it (deterministic)."""
    if registry.sha_of_id(wanted) is None:
        return wanted
    for width in (8, 16, 64):
        candidate = f"{wanted}-{sha[:width]}"
        if registry.sha_of_id(candidate) is None:
            return candidate
    raise RuntimeError(f"no free id for {wanted}")  # only if one sha256 were indexed twice


# --- the run ----------------------------------------------------------------------------


def _results(tasks: list[_Task], workers: int) -> Iterator[_Chunk]:
    """Prepared and inverted chunks of letters in task order, parsed on `workers` processes."""
    size = max(1, min(CHUNK, -(-len(tasks) // (4 * max(1, workers)))))
    chunks = [tasks[i : i + size] for i in range(0, len(tasks), size)]
    if workers <= 1 or len(tasks) < INLINE_BELOW:
        yield from map(_prepare_chunk, chunks)
        return
    ctx = multiprocessing.get_context("spawn")  # no fork of a process holding index files
    with ctx.Pool(workers) as pool:
        yield from pool.imap(_prepare_chunk, chunks)


class _Batch:
    """The registry of what is indexed and, once something changes, the open writer."""

    def __init__(self, ix: windex.FileIndex, limitmb: int, clear: bool) -> None:
        self.ix = ix
        self.limitmb = limitmb
        self.clear = clear  # the first commit of a --rebuild drops every old segment
        # In a --rebuild, everything indexed was added by this run and the registry knows it
        # all: later batches need no searcher (a lookup costs a probe of every segment).
        self.fresh = clear
        self._writer: FastWriter | None = None
        self.searcher: Any = None
        self.registry = _Registry(None)
        self.pending = 0
        self.open()

    def open(self) -> None:
        # A searcher, not a writer, until something changes: a run that changes nothing
        # writes nothing at all. We hold the run lock, so the two see the same commit.
        if not self.fresh:
            self.searcher = self.ix.searcher()
            self.registry = _Registry(self.searcher)
        self.pending = 0

    @property
    def writer(self) -> FastWriter:
        """The writer of this batch (opened on first use)."""
        if self._writer is None:
            self._writer = FastWriter(self.ix, limitmb=self.limitmb)
        return self._writer

    def _close_searcher(self) -> None:
        if self.searcher is not None:
            self.searcher.close()
            self.searcher = None

    def commit(self, final: bool) -> None:
        if self.clear:
            self.writer.commit(mergetype=CLEAR)
            self.clear = False
        elif self._writer is not None:
            self._writer.commit(mergetype=merge_tiered)
        self._writer = None
        self._close_searcher()
        if not final:
            self.open()

    def cancel(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None
        self._close_searcher()


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
    parse_timeout: float | None = DEFAULT_PARSE_TIMEOUT,
) -> IndexSummary:
    """Index letter files and folders into index_dir; incremental, idempotent, crash-safe."""
    from .parse.load import LoadError, iter_files

    started = time.monotonic()
    folder = Path(index_dir)
    folder.mkdir(parents=True, exist_ok=True)
    summary = IndexSummary()
    workers = workers or min(2, os.cpu_count() or 1)

    def fail(message: str) -> None:
        summary.failed += 1
        summary.errors.append(message)
        if on_error is not None:
            on_error(message)

    with _run_lock(folder):
        ix = create_or_open_index(folder)
        batch = _Batch(ix, limitmb, clear=rebuild)
        try:
            files: list[Path] = []
            seen: set[str] = set()
            for item in iter_files(paths):
                if isinstance(item, LoadError):
                    fail(str(item))
                    continue
                key = os.path.abspath(item)
                if key not in seen:
                    seen.add(key)
                    files.append(item)
            total = len(files) + summary.failed
            tasks = []
            for path in files:
                key = os.path.abspath(path)
                known = batch.registry.by_source(key)
                tasks.append(_Task(str(path), key, known.sha if known else None, parse_timeout))
            done = summary.failed
            for chunk in _results(tasks, workers):
                keep: list[bool] = []  # per document of the chunk: added as inverted
                renamed: list[tuple[_Parsed, str]] = []
                for got in chunk.items:
                    if isinstance(got, _Failed):
                        fail(got.message)
                    elif isinstance(got, _Unchanged):
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
                for _ in chunk.items:
                    done += 1
                    if progress is not None:
                        progress(done, total, summary)
                if batch.pending >= batch_size:
                    batch.commit(final=False)
            batch.commit(final=True)
        except BaseException:
            batch.cancel()
            raise
    summary.seconds = time.monotonic() - started
    return summary


def _decide(batch: _Batch, item: _Parsed, summary: IndexSummary) -> str | None:
    """Register one parsed letter; the id to add it under, or None when it is not added."""
    registry = batch.registry
    sha = item.sha256
    old = registry.by_source(item.key)
    if old is not None and old.sha == sha:
        summary.unchanged += 1
        return None
    if old is not None:  # the file changed: its old record goes
        batch.writer.delete_by_term(F_LID, old.id)
        registry.remove(item.key, old)
        batch.pending += 1
    if registry.id_of_sha(sha) is not None:  # the same text is already indexed
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
