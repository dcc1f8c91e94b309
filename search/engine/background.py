"""Merges in a background process while the writer goes on adding and committing (as
Lucene's ConcurrentMergeScheduler), so a large merge no longer stops the parse workers.

After a commit, the policy (mergepolicy.choose_merges) picks segments of the committed
generation; a child process merges them into a new segment in a staging folder inside the
index (`.rebuild-merge-*`: commits never delete it, a run's start does), fsyncs its files and
sends back the segment and its files' checksums. A later commit of the writer publishes it:
its files move into the index folder, documents deleted in its sources since the merge
started are deleted in it too, and the TOC names it instead of its sources; the sources'
files are deleted only after that TOC is durable (toc.commit). A crash at any moment leaves
the last commit as it was plus unreferenced files, which the next run removes.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from .mergepolicy import choose_merges, compact_merge
from .toc import STAGING_PREFIX, FileSums, durable_files

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # prctl: a signal for this process when its parent dies (Linux)


def _die_with_parent() -> None:
    """Pool initializer: a merge child is killed with its writer (never left writing)."""
    import contextlib
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):  # not Linux: the pool ends them
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def merge_into(staging: str, folder: str, pickled: bytes) -> tuple[Any, FileSums]:
    """In the child: merge the (pickled) segments of the index in `folder`, their live
    documents in order, into one new segment written in `staging`; its files fsynced. The
    segment and its files' checksums."""
    import pickle

    from whoosh.filedb.filestore import FileStorage
    from whoosh.reading import SegmentReader

    from ..schema import SCHEMA
    from .toc import DurableIndex
    from .writer import FastWriter

    ix = DurableIndex.create(staging)
    writer = FastWriter(ix)
    source = FileStorage(folder, readonly=True)
    segments = pickle.loads(pickled)
    try:
        for seg in segments:
            writer.add_reader(SegmentReader(source, SCHEMA, seg))
        merged = writer._finalize_segment()
    finally:
        writer._close_segment()
        writer._finish()
    return merged, durable_files(staging, [merged], {})[merged.segid]


def timed_merge(staging: str, folder: str, pickled: bytes) -> tuple[Any, FileSums, float]:
    """merge_into, and the CPU seconds the child spent on it (the run reports merges' CPU
    apart from the parse workers')."""
    import time

    started = time.process_time()
    merged, sums = merge_into(staging, folder, pickled)
    return merged, sums, time.process_time() - started


def renumbered_deletions(sources: list[Any], before: dict[str, frozenset[int]]) -> set[int]:
    """The merged segment's document numbers of what was deleted in its sources since the
    merge started: each source's documents live at the start, in order, numbered on."""
    out: set[int] = set()
    base = 0
    for seg in sources:
        live = np.ones(seg.doc_count_all(), dtype=bool)
        gone = before[seg.segid]
        if gone:
            live[np.fromiter(gone, dtype=np.int64, count=len(gone))] = False
        new = np.cumsum(live) - 1 + base
        since = set(seg.deleted_docs()) - gone if seg.deleted_count() else set()
        out.update(int(new[d]) for d in since)
        base += int(live.sum())
    return out


class MergeScheduler:
    """At most one background merge at a time for one index run's writer."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = str(folder)
        self._pool: Any = None
        self._job: Any = None  # the running merge's AsyncResult
        self._sources: list[str] = []  # segment ids being merged, in order
        self._before: dict[str, frozenset[int]] = {}  # their deletions when it started
        self._staging = ""
        self._count = 0
        self.cpu = 0.0  # CPU seconds of the merges finished (published or not)

    @property
    def running(self) -> bool:
        """A merge has been started and not yet published or dropped."""
        return self._job is not None

    def start(self, segments: list[Any], *, compact: bool = False) -> bool:
        """Start merging what the policy (or, compacting, compact_merge) picks of the
        committed `segments` (nothing while a merge runs); whether one started."""
        if self._job is not None:
            return False
        counts = [(seg.doc_count_all(), seg.doc_count()) for seg in segments]
        from . import mergepolicy as mp

        if compact:
            chosen = compact_merge(counts, mp.MAX_MERGED_DOCS)
        else:
            chosen = choose_merges(
                counts,
                factor=mp.MERGE_FACTOR,
                floor=mp.FLOOR_DOCS,
                max_docs=mp.MAX_MERGED_DOCS,
                deletes_allowed=mp.DELETES_ALLOWED,
            )
        if not chosen:
            return False
        picked = [segments[i] for i in sorted(chosen)]
        if self._pool is None:
            ctx = multiprocessing.get_context("spawn")  # no fork of a process holding files
            self._pool = ctx.Pool(1, initializer=_die_with_parent)
        self._count += 1
        self._staging = os.path.join(
            self.folder, f"{STAGING_PREFIX}merge-{os.getpid()}-{self._count}"
        )
        shutil.rmtree(self._staging, ignore_errors=True)
        self._sources = [seg.segid for seg in picked]
        self._before = {seg.segid: frozenset(seg.deleted_docs()) for seg in picked}
        # Pickled now, with the deletions of _before: the pool sends a task later, and the
        # writer meanwhile deletes in these very segment objects.
        snapshot = pickle.dumps(picked, pickle.HIGHEST_PROTOCOL)
        self._job = self._pool.apply_async(timed_merge, (self._staging, self.folder, snapshot))
        return True

    def publish(self, writer: Any, segments: list[Any], *, wait: bool = False) -> list[Any]:
        """Whoosh merge function for the writer's commit: the finished merge (waited for
        when `wait`) in place of its sources, its files moved in; else the segments as
        they are."""
        job = self._job
        if job is None or not (wait or job.ready()):
            return list(segments)
        self._job = None
        try:
            merged, sums, cpu = job.get()
        except Exception as exc:  # the sources stay: the index is as if never merged
            log.warning("background merge of %s failed: %s", self._sources, exc)
            shutil.rmtree(self._staging, ignore_errors=True)
            return list(segments)
        self.cpu += cpu
        current = {seg.segid: seg for seg in segments}
        sources = [current.get(segid) for segid in self._sources]
        if any(seg is None for seg in sources):  # (a commit dropped one: never while we write)
            shutil.rmtree(self._staging, ignore_errors=True)
            return list(segments)
        for docnum in sorted(renumbered_deletions(sources, self._before)):
            merged.delete_document(docnum)
        for name in sums:
            os.replace(os.path.join(self._staging, name), os.path.join(self.folder, name))
        shutil.rmtree(self._staging, ignore_errors=True)
        # The commit carries these checksums (the files were fsynced by the child; the
        # commit fsyncs the folder before the TOC's rename publishes them).
        writer._known_files = {**writer._known_files, merged.segid: sums}
        done = set(self._sources)
        return [seg for seg in segments if seg.segid not in done] + [merged]

    def close(self, *, cancel: bool = False) -> None:
        """End the child process; a merge not published is dropped (its files removed)."""
        if self._pool is not None:
            if cancel or self._job is not None:
                self._pool.terminate()
            else:
                self._pool.close()
            self._pool.join()
            self._pool = None
        if self._job is not None:
            self._job = None
            shutil.rmtree(self._staging, ignore_errors=True)
