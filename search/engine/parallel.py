"""One search's segments on several cores: a thread pool per process.

A search's per-segment work (evaluating the query, counting facets, picking letter rows) is
numpy over whole arrays, which runs without the GIL, so two segments evaluated on two
threads take about the time of the larger one (as Lucene's IndexSearcher with an executor
searches its slices). Threads, not processes: the segments' arrays are shared, not copied.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Final, TypeVar, cast

T = TypeVar("T")

# Threads one search may use: the cores, up to 4 (a search has a handful of segments)
SEARCH_THREADS: Final = max(1, min(4, os.cpu_count() or 1))
_PREFIX: Final = "imr-segments"

_guard = threading.Lock()
_pools: dict[tuple[int, int], ThreadPoolExecutor] = {}  # (process id, threads) -> pool


def _pool(threads: int) -> ThreadPoolExecutor:
    """This process's pool of `threads` threads (a forked worker makes its own: the parent's
    threads do not exist in it)."""
    key = (os.getpid(), threads)
    with _guard:
        found = _pools.get(key)
        if found is None:
            found = _pools[key] = ThreadPoolExecutor(threads, thread_name_prefix=_PREFIX)
        return found


def each(work: Callable[[int], T], count: int, threads: int = SEARCH_THREADS) -> list[T]:
    """[work(0), ..., work(count - 1)], on the calling thread and up to `threads` - 1 more;
    the first exception raised (a timeout, a bad query) is raised once no part runs."""
    helpers = min(threads, count) - 1
    if helpers < 1 or threading.current_thread().name.startswith(_PREFIX):
        return [work(i) for i in range(count)]  # (a part never waits on its own pool)
    parts = itertools.count()  # (next() on it is atomic: each part is taken once)
    results: list[T | None] = [None] * count

    def drain() -> None:
        # Each thread takes the next part until none is left: segments differ in size, so
        # parts are not dealt out in advance.
        while (i := next(parts)) < count:
            results[i] = work(i)

    pool = _pool(threads - 1)
    futures = [pool.submit(drain) for _ in range(helpers)]
    try:
        drain()
    finally:
        for future in futures:
            # A helper still queued behind another search's parts is not waited for (the
            # caller took its parts); a started one is, so nothing runs on after we return.
            if not future.cancel():
                future.exception()
    for future in futures:
        if not future.cancelled():
            future.result()  # (raises a helper's exception)
    return cast(list[T], results)  # (every part was set: none raised)
