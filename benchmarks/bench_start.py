"""Where a fresh process's open and first query go: time per stage, fresh processes.

    python -m benchmarks.bench_start --index INDEX --mix MIX.jsonl [--query 0] [--runs 5] [--cold]

Each run is a fresh process that opens the index and runs one query of the mix (as
`bench_scale` asks it: literal words, letter scope), with the engine's stage functions
wrapped in timers. A stage's time is summed over the threads that ran it (a search runs its
segments on several threads), so stages can add up to more than the wall time; indented
stages are part of the one above. The medians of the runs are printed, and the wall and CPU
time of the open and of the first query. `--cold` drops the index's files from the page
cache before each run (`bench_scale`'s eviction).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parent.parent  # where `python -m benchmarks...` runs

# (label, module, owner or None, attribute, depth): wrapped where the engine looks it up.
STAGES: Final = (
    ("open: segments loaded", "search.engine.searcher", None, "load_segment", 0),
    ("refs and values read", "search.engine.segments", None, "refbytes_column", 1),
    ("values coded engine-wide", "search.engine.segments", "FacetTable", "column_codes", 1),
    ("query understood (synonyms)", "search.engine.searcher", None, "understood_request", 0),
    ("postings read", "search.engine.evaluate", "Evaluator", "prepare", 0),
    ("query evaluated", "search.engine.evaluate", "Evaluator", "evaluate", 0),
    ("facets counted", "search.engine.facets", "FacetCounter", "segment", 0),
    ("counts over all live documents", "search.engine.facets", "FacetCounter", "_live_counts", 1),
    ("counting groups built", "search.engine.segments", None, "facet_groups", 2),
    ("letter rows", "search.engine.searcher", None, "segment_rows", 0),
    ("facets named", "search.engine.facets", "FacetCounter", "total", 0),
    ("hits built (records, highlights)", "search.engine.searcher", "SearchIndex", "_hit", 0),
)


def _wrap(totals: dict[str, float], label: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """func, adding its wall time to totals[label] (a lock: several threads add)."""
    lock = threading.Lock()

    def timed(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            spent = time.perf_counter() - t
            with lock:
                totals[label] = totals.get(label, 0.0) + spent

    return timed


def child(index: str, mix: str, query: int) -> dict[str, Any]:
    """Open the index and run one query, the stages timed (in this fresh process)."""
    import importlib

    from benchmarks import querymix
    from search.engine.searcher import SearchIndex

    totals: dict[str, float] = {}
    for label, module, owner, name, _ in STAGES:
        target = importlib.import_module(module)
        if owner is not None:
            target = getattr(target, owner)
        setattr(target, name, _wrap(totals, label, getattr(target, name)))
    q = querymix.load(Path(mix))[query]
    request = q.request()
    t, cpu = time.perf_counter(), time.process_time()
    index = SearchIndex.open(index)
    opened, opened_cpu = time.perf_counter(), time.process_time()
    index.search(request)
    done, done_cpu = time.perf_counter(), time.process_time()
    return {
        "query": q.ours()[0],
        "open": (opened - t) * 1000,
        "open_cpu": (opened_cpu - cpu) * 1000,
        "first": (done - opened) * 1000,
        "first_cpu": (done_cpu - opened_cpu) * 1000,
        "stages": {k: v * 1000 for k, v in totals.items()},
    }


def main(argv: list[str] | None = None) -> int:
    """Run fresh processes and print the median time of each stage."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_child":
        print(json.dumps(child(argv[1], argv[2], int(argv[3]))))
        return 0
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_start", description=__doc__)
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--mix", type=Path, required=True, help="a bench_scale query mix (.jsonl)")
    p.add_argument("--query", type=int, default=0, help="which query of the mix (0: the first)")
    p.add_argument("--runs", type=int, default=5, help="fresh processes (5)")
    p.add_argument("--cold", action="store_true", help="drop the index from the page cache first")
    args = p.parse_args(argv)
    from benchmarks.bench_scale import compile_bytecode, evict_page_cache

    compile_bytecode()  # as an installed package has it (see bench_scale)
    runs = []
    for _ in range(args.runs):
        if args.cold:
            evict_page_cache(args.index)
        command = [sys.executable, "-m", "benchmarks.bench_start", "_child"]
        command += [str(args.index), str(args.mix), str(args.query)]
        done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(report(runs, args.cold))
    return 0


def report(runs: list[dict[str, Any]], cold: bool) -> str:
    """The medians of the runs as a table."""

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    where = "files dropped from the page cache" if cold else "on the page cache"
    lines = [
        f"{runs[0]['query']!r}: {len(runs)} fresh processes, {where}; medians",
        f"open {med('open'):.0f} ms (CPU {med('open_cpu'):.0f}), first query "
        f"{med('first'):.0f} ms (CPU {med('first_cpu'):.0f}); stages summed over threads:",
    ]
    for label, _, _, _, depth in STAGES:
        spent = statistics.median(r["stages"].get(label, 0.0) for r in runs)
        lines.append(f"  {'  ' * depth}{label:<{40 - 2 * depth}} {spent:7.1f} ms")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
