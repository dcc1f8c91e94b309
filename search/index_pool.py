"""The parse workers of an index run: files in, chunks of parsed and inverted letters out."""

from __future__ import annotations

import collections
import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from .audit import Audit
from .engine.chunk import Inverted, invert
from .engine.docs import record_documents

CHUNK: Final = 128  # letters a worker parses and inverts per task (fewer for small runs)
INLINE_BELOW: Final = 24  # fewer files than this are parsed in-process (no pool start-up)
# Chunks in flight per parse worker (about 1.5 MB pickled each): enough to go on parsing
# through a commit, seconds at scale, while the writer takes no chunk (3 left the two cores
# 10% idle: 80,000 letters at 1.80 cores busy against 1.94 with 16).
WINDOW: Final = 16


@dataclass(frozen=True, slots=True)
class Task:
    """One file to look at: where it is and what the index holds for it."""

    path: str
    key: str  # absolute path: the registry key of the source
    known_sha: str | None  # the sha256 indexed for this source, if any
    parse_timeout: float | None = None  # CPU seconds the parse may take (None: unlimited)
    strict: bool = False  # a letter with no decision found fails


@dataclass(frozen=True, slots=True)
class Prepared:
    """A parsed letter and its Whoosh documents (inside a worker)."""

    key: str
    path: str
    id: str
    sha256: str
    docs: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parsed letter as the writer sees it: its documents are in the chunk."""

    # Only what the writer needs: unpickling a whole record costs the (busy) writer process.
    key: str
    path: str
    id: str
    sha256: str
    start: int  # its documents in the chunk: local numbers start..stop-1
    stop: int


@dataclass(frozen=True, slots=True)
class Unchanged:
    """A file whose text is indexed as it is."""

    key: str


@dataclass(frozen=True, slots=True)
class Failed:
    """A file that could not be indexed, and why."""

    message: str


Result = Prepared | Unchanged | Failed


@dataclass(frozen=True, slots=True)
class Chunk:
    """A worker's answer: its files' outcomes in order, and their documents inverted."""

    items: list[Parsed | Unchanged | Failed]  # in task order
    inverted: Inverted  # the documents of every Parsed item, in order
    audit: Audit  # parse quality of the letters parsed in the chunk


def prepare(task: Task, audit: Audit) -> Result:
    """Load, check, parse and analyze one file (runs in a worker process); count its parse
    quality in `audit`."""
    from .parse.limit import parse_limited
    from .parse.load import LoadError, load_file

    try:
        loaded = load_file(task.path)
        if loaded.sha256 == task.known_sha:
            return Unchanged(task.key)
        record = parse_limited(loaded, task.parse_timeout)
        audit.add(record)
        if task.strict and not record.decisions:
            return Failed(f"{task.path}: no decisions found (--strict)")
        docs = record_documents(record, task.key)
        return Prepared(task.key, task.path, record.id, record.sha256, docs)
    except LoadError as exc:
        return Failed(str(exc))
    except Exception as exc:  # one bad letter must never stop the batch
        return Failed(f"{task.path}: could not index: {type(exc).__name__}: {exc}")


def prepare_chunk(tasks: list[Task]) -> Chunk:
    """Prepare a chunk of files and invert their documents (runs in a worker process)."""
    items: list[Parsed | Unchanged | Failed] = []
    docs: list[dict[str, Any]] = []
    audit = Audit()
    for task in tasks:
        result = prepare(task, audit)
        if isinstance(result, Prepared):
            start = len(docs)
            docs += result.docs
            items.append(
                Parsed(result.key, result.path, result.id, result.sha256, start, len(docs))
            )
        else:
            items.append(result)
    return Chunk(items, invert(docs), audit)


def chunked(tasks: Iterator[Task], size: int) -> Iterator[list[Task]]:
    """Tasks in lists of `size` (made lazily: only a window of them exists at a time)."""
    chunk: list[Task] = []
    for task in tasks:
        chunk.append(task)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def results(tasks: Iterator[Task], total: int, workers: int) -> Iterator[Chunk]:
    """Prepared and inverted chunks of letters in task order, parsed on `workers` processes.

    At most WINDOW chunks per worker are in flight: results never pile up in memory when
    the writer is slower than the parsers (Pool.imap would queue every task at once).
    """
    size = max(1, min(CHUNK, -(-total // (4 * max(1, workers)))))
    chunks = chunked(tasks, size)
    if workers <= 1 or total < INLINE_BELOW:
        yield from map(prepare_chunk, chunks)
        return
    ctx = multiprocessing.get_context("spawn")  # no fork of a process holding index files
    with ctx.Pool(workers) as pool:
        window: collections.deque[Any] = collections.deque()
        for chunk in chunks:
            window.append(pool.apply_async(prepare_chunk, (chunk,)))
            if len(window) >= WINDOW * workers:
                yield window.popleft().get()
        while window:
            yield window.popleft().get()


def count_files(paths: list[str | os.PathLike[str]]) -> int:
    """How many files (and unreadable paths) a run will look at: a walk, nothing kept."""
    from .parse.load import iter_files

    return sum(1 for _ in iter_files(paths))
